import { describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BuildkitClient } from './client';
import type { SolveStatus } from './control/types';
import { BuildkitError } from './errors';
import type { SessionHeaders } from './session/session-headers';

const update: SolveStatus = { vertexes: [], statuses: [], logs: [], warnings: [] } as unknown as SolveStatus;

/** A client over a fake Control API (the constructor is private: the prototype is enough for solve()). */
function clientWith(
  control: { status(ref: string): AsyncGenerator<SolveStatus>; solve(request: unknown, options: { signal?: AbortSignal }): Promise<unknown>; listWorkers?(options: { timeoutMs?: number }): Promise<unknown> },
  hangTimeoutMs = 20_000,
): BuildkitClient {
  const address = { display: 'unix:///run/test.sock' };
  return Object.assign(Object.create(BuildkitClient.prototype) as BuildkitClient, {
    control, sessions: new Map(), live: new Set(), hangListeners: new Set(), hangTimeoutMs, channel: { address },
  });
}

/** A solve that runs until it is aborted. */
const endless = (_request: unknown, options: { signal?: AbortSignal }) =>
  new Promise<never>((_, reject) => options.signal?.addEventListener('abort', () => reject(new BuildkitError('cancelled', 'context canceled'))));

describe('BuildkitClient.solve on a daemon that stops answering', () => {
  test('no answer to the liveness question within hangTimeoutMs ends the running solves, saying so', async () => {
    const asked: Array<number | undefined> = [];
    const client = clientWith({
      async *status() {},
      solve: endless,
      listWorkers: async (options) => {
        asked.push(options.timeoutMs);
        await new Promise((r) => setTimeout(r, options.timeoutMs));
        throw new BuildkitError('deadline-exceeded', 'ListWorkers: no answer within 0.2 s (deadline exceeded)');
      },
    }, 200);
    const started = Date.now();
    const results = await Promise.allSettled([client.solve({ session: 's', frontend: 'dockerfile.v0' }), client.solve({ session: 't', frontend: 'dockerfile.v0' })]);
    expect(Date.now() - started).toBeLessThan(2_000);
    for (const r of results) {
      expect(r.status).toBe('rejected');
      const e = (r as PromiseRejectedResult).reason as BuildkitError;
      expect(e.code).toBe('deadline-exceeded');
      expect(e.message).toBe('the builder at unix:///run/test.sock stopped answering: no answer to ListWorkers within 0.2 s while the build ran (is the daemon stopped or stuck?)');
    }
    // One question at a time for both solves, each with the hang timeout as its deadline.
    expect(asked).toEqual([200]);
  });

  test('a daemon that answers, or fails otherwise (lost connection), does not end the solve', async () => {
    let calls = 0;
    const client = clientWith({
      async *status() {},
      solve: () => new Promise((r) => setTimeout(() => r({ exporterResponse: {} }), 400)),
      listWorkers: async () => {
        if (++calls % 2) return [];
        throw new BuildkitError('unavailable', 'connection refused');
      },
    }, 200);
    await client.solve({ session: 's', frontend: 'dockerfile.v0' });
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

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

describe('BuildkitClient sessions on a Docker engine', () => {
  const headers: SessionHeaders = { id: 'test-session', sharedKey: '', name: 'test', methods: ['/moby.filesync.v1.FileSync/DiffCopy'] };

  /** A client of an engine at `socketPath` whose Control/Session dialer only records that it was used. */
  function engineClient(socketPath: string) {
    const grpcDials: string[] = [];
    // Control/Session dials through the channel's gRPC client: record the dial, and go no further.
    const grpcClient = { makeBidiStreamRequest: () => { grpcDials.push('grpc'); throw new Error('dialed over Control/Session'); } };
    const channel = { client: grpcClient, address: { kind: 'docker', endpoint: { socketPath }, display: `docker://${socketPath}` } };
    const client = Object.assign(Object.create(BuildkitClient.prototype) as object, { channel, sessionTransport: 'docker', sessions: new Map(), live: new Set() }) as unknown as BuildkitClient;
    return { client, grpcDials };
  }

  test('an engine that refuses the /session upgrade: the session goes over Control/Session, and so do the later ones', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-client-'));
    const socketPath = path.join(dir, 'engine.sock');
    const requests: string[] = [];
    const server = net.createServer((socket) => socket.once('data', (d) => {
      requests.push(d.toString('latin1').split('\r\n')[0]!);
      socket.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n');
    }));
    await new Promise<void>((r) => server.listen(socketPath, r));
    try {
      const { client, grpcDials } = engineClient(socketPath);
      expect(client.transport).toBe('docker');
      await expect(client.sessionDialer()(headers, new AbortController().signal)).rejects.toThrow('dialed over Control/Session');
      expect(client.transport).toBe('grpc');
      await expect(client.sessionDialer()(headers, new AbortController().signal)).rejects.toThrow('dialed over Control/Session');
      expect(requests).toEqual(['POST /session HTTP/1.1']);
      expect(grpcDials).toEqual(['grpc', 'grpc']);
    } finally {
      server.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test('an engine that cannot be reached: the failure is reported, naming the engine, and the transport stays', async () => {
    const { client, grpcDials } = engineClient('/nonexistent/nxbk-engine.sock');
    await expect(client.sessionDialer()(headers, new AbortController().signal)).rejects.toThrow('docker:///nonexistent/nxbk-engine.sock');
    expect(client.transport).toBe('docker');
    expect(grpcDials).toEqual([]);
  });
});
