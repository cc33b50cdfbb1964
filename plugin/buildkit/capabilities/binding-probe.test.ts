import { describe, expect, test } from 'bun:test';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import { probeBinding } from './binding-probe';

let n = 0;

/** A client whose solves answer from `answers` in order; enough of BuildkitClient for the probe. */
function fakeClient(answers: Array<Error | 'ok'>): { client: BuildkitClient; solves: () => number } {
  let solves = 0;
  const address = { kind: 'unix', path: `/fake-${++n}.sock`, display: `unix:///fake-${n}.sock` };
  const client = {
    address,
    openSession: async () => ({ id: `s${Math.random()}`, close: async () => {}, [Symbol.asyncDispose]: async () => {} }),
    solve: async () => {
      const answer = answers[solves++] ?? new Error('no more answers');
      if (answer !== 'ok') throw answer;
      return { exporterResponse: {} };
    },
  };
  return { client: client as unknown as BuildkitClient, solves: () => solves };
}

describe('probeBinding', () => {
  test('an unreachable daemon is an error, never an answer, even if its message says "not found"', async () => {
    const unreachable = new BuildkitError('unavailable', 'cannot reach the builder at unix:///x (socket not found)');
    const { client } = fakeClient([unreachable, unreachable]);
    await expect(probeBinding(client)).rejects.toThrow(/cannot reach the builder/);
  });

  test('"the other session was not used" answers lead down to prefetch', async () => {
    const { client } = fakeClient([
      new BuildkitError('unknown', 'failed to read dockerfile: no access allowed to dir "context"'),
      new BuildkitError('not-found', 'no access allowed to dir "probe-context"'),
    ]);
    expect(await probeBinding(client)).toBe('prefetch');
  });

  test('a probe the daemon cancelled on its own is asked again, not taken as an answer', async () => {
    const canceled = new BuildkitError('cancelled', 'solve: context canceled');
    const { client, solves } = fakeClient([canceled, new BuildkitError('unknown', 'no access allowed to dir "context"'), 'ok']);
    expect(await probeBinding(client)).toBe('frontend-inputs');
    expect(solves()).toBe(3);
  });
});
