import { describe, expect, test } from 'bun:test';
import { BuildkitClient } from './client';
import type { SolveStatus } from './control/types';
import { BuildkitError } from './errors';

const update: SolveStatus = { vertexes: [], statuses: [], logs: [], warnings: [] } as unknown as SolveStatus;

/** A client over a fake Control API (the constructor is private: the prototype is enough for solve()). */
function clientWith(control: { status(ref: string): AsyncGenerator<SolveStatus>; solve(): Promise<unknown> }): BuildkitClient {
  return Object.assign(Object.create(BuildkitClient.prototype) as BuildkitClient, { control, sessions: new Map(), live: new Set(), hangListeners: new Set(), hangTimeoutMs: 20_000 });
}

describe('BuildkitClient.solve progress', () => {
  test('a Status call that gave up before a slow daemon registered the job is made again while the solve runs', async () => {
    let statusCalls = 0;
    const client = clientWith({
      async *status() {
        statusCalls++;
        if (statusCalls === 1) throw new BuildkitError('not-found', 'status: no such job abc');
        yield update;
      },
      solve: () => new Promise((r) => setTimeout(() => r({ exporterResponse: {} }), 300)),
    });
    const seen: SolveStatus[] = [];
    await client.solve({ session: 's', frontend: 'dockerfile.v0' }, { onStatus: (s) => seen.push(s) });
    expect(statusCalls).toBe(2);
    expect(seen).toHaveLength(1);
  });

  test('other Status failures, or "no such job" after the solve ended, are not retried', async () => {
    for (const [error, solveMs] of [[new BuildkitError('unknown', 'status: boom'), 300], [new BuildkitError('not-found', 'status: no such job x'), 0]] as const) {
      let statusCalls = 0;
      const client = clientWith({
        async *status() {
          statusCalls++;
          await new Promise((r) => setTimeout(r, 50));
          throw error;
        },
        solve: () => new Promise((r) => setTimeout(() => r({ exporterResponse: {} }), solveMs)),
      });
      await client.solve({ session: 's', frontend: 'dockerfile.v0' });
      expect(statusCalls).toBe(1);
    }
  });
});
