import { describe, expect, test } from 'bun:test';
import { ReadOnlyAgentGate } from './read-only-agent-gate';

const frame = (type: number, body: number[] = []) => {
  const b = Buffer.alloc(5 + body.length);
  b.writeUInt32BE(1 + body.length, 0);
  b[4] = type;
  Buffer.from(body).copy(b, 5);
  return b;
};
const failure = frame(5);

function gate() {
  const agent: Buffer[] = [];
  const build: Buffer[] = [];
  const g = new ReadOnlyAgentGate((b) => agent.push(Buffer.from(b)), (b) => build.push(Buffer.from(b)));
  return { g, agent: () => Buffer.concat(agent), build: () => Buffer.concat(build) };
}

describe('ReadOnlyAgentGate', () => {
  test('identity listing and signing pass to the agent whole, even when split into single bytes', () => {
    const { g, agent, build } = gate();
    const requests = Buffer.concat([frame(11), frame(13, [1, 2, 3, 4])]);
    for (const byte of requests) g.fromBuild(Buffer.from([byte]));
    expect(agent().equals(requests)).toBe(true);
    expect(build().length).toBe(0);
  });

  test('adding, removing, locking keys and extensions are answered with SSH_AGENT_FAILURE, never forwarded', () => {
    const { g, agent, build } = gate();
    for (const type of [17, 18, 19, 22, 23, 25, 27]) g.fromBuild(frame(type, [9, 9]));
    expect(agent().length).toBe(0);
    expect(build().equals(Buffer.concat(Array(7).fill(failure)))).toBe(true);
  });

  test('a refused request behind pending ones is answered after their replies, in order', () => {
    const { g, agent, build } = gate();
    g.fromBuild(Buffer.concat([frame(11), frame(19), frame(13, [7]), frame(18)]));
    expect(agent().equals(Buffer.concat([frame(11), frame(13, [7])]))).toBe(true);
    expect(build().length).toBe(0); // the failures wait for the agent's first reply
    expect(g.answered).toBe(false);
    const identities = frame(12, [0, 0, 0, 0]);
    const signature = frame(14, [1, 2, 3]);
    // Replies arrive cut at odd places: the first in two pieces, the second glued to nothing.
    g.fromAgent(identities.subarray(0, 3));
    expect(build().equals(identities.subarray(0, 3))).toBe(true);
    g.fromAgent(Buffer.concat([identities.subarray(3), signature.subarray(0, 6)]));
    g.fromAgent(signature.subarray(6));
    expect(build().equals(Buffer.concat([identities, failure, signature, failure]))).toBe(true);
    expect(g.answered).toBe(true);
  });

  test('an oversized or empty request is a protocol error', () => {
    const { g } = gate();
    const huge = Buffer.alloc(4);
    huge.writeUInt32BE(256 * 1024 + 1);
    expect(() => g.fromBuild(huge)).toThrow(/ssh-agent request/);
    expect(() => gate().g.fromBuild(Buffer.alloc(4))).toThrow(/ssh-agent request of 0 bytes/);
  });
});
