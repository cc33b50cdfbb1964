import { describe, expect, test } from 'bun:test';
import { messageType } from '../protocol/root';
import { digestOf, marshal } from './marshal';
import { State } from './state';

const graph = () => {
  const src = State.local('context', { sessionId: 'sessionid0000000000000000', excludePatterns: ['*.log'], sharedKeyHint: 'context' });
  const base = State.image('127.0.0.1:5000/base:latest', { platform: { os: 'linux', architecture: 'amd64' } });
  return base.copy(src, '/', '/app', { copyDirContents: true, createDestPath: true }).mkfile('/app/VERSION', '1.0\n').mkdir('/data', { makeParents: true });
};

describe('LLB marshaling', () => {
  test('the same graph gives the same bytes and digests every time', () => {
    const a = marshal(graph());
    const b = marshal(graph());
    expect(a.def.map(digestOf)).toEqual(b.def.map(digestOf));
    expect(a.def.map((d) => Buffer.from(d).toString('hex'))).toEqual(b.def.map((d) => Buffer.from(d).toString('hex')));
  });

  test('pinned digest of a known graph (changes only when the encoding changes)', () => {
    const def = marshal(graph());
    // Computed once with this encoder, whose byte layout is checked against Go's golden vectors.
    expect(digestOf(def.def.at(-1)!)).toMatchSnapshot();
  });

  test('dependencies come first, each op once, a terminal op last', () => {
    const src = State.local('ctx');
    const shared = State.scratch().copy(src, '/a', '/a');
    const twice = shared.copy(shared, '/a', '/b');
    const def = marshal(twice);
    const Op = messageType('pb.Op');
    const ops = def.def.map((bytes) => Op.toObject(Op.decode(bytes), { longs: String }) as { inputs?: Array<{ digest: string }>; source?: unknown; file?: unknown });
    expect(ops.length).toBe(4); // local, copy /a, copy /b, terminal
    expect(ops[0]!.source).toBeDefined();
    const seen = new Set<string>();
    def.def.forEach((bytes, i) => {
      for (const input of ops[i]!.inputs ?? []) expect(seen.has(input.digest)).toBe(true);
      seen.add(digestOf(bytes));
    });
    const terminal = ops.at(-1)!;
    expect(terminal.source ?? terminal.file).toBeUndefined();
    expect(terminal.inputs).toEqual([{ digest: digestOf(def.def[2]!) }]);
  });

  test('custom names become op metadata keyed by the op digest', () => {
    const def = marshal(State.scratch().mkfile('/x', 'y').withCustomName('make x'));
    const key = digestOf(def.def[0]!);
    expect(def.metadata[key]?.description).toEqual({ 'llb.customname': 'make x' });
  });

  test('scratch alone cannot be marshaled', () => {
    expect(() => marshal(State.scratch())).toThrow('scratch');
  });
});
