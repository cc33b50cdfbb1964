/**
 * Foundation scenarios: the client core against a real daemon. Written with
 * node:assert so the same code runs under `bun test` and under Node.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import {
  BuildkitClient, BuildkitError, FileSendProvider, FileSyncProvider, marshal, ProgressTracker, State,
  type Attachable, type Session,
} from '../../plugin/buildkit/index';
import { e2eEnvironment, type E2eDaemon } from '../support/daemons';
import { readTree, tempDir, writeTree } from '../support/files';
import { makeTestPki, startTlsTerminator } from '../support/tls-terminator';
import { rejection } from '../support/expect-failure';
import { skip } from '../support/skip';

/** What a scenario runs against. */
export interface ScenarioContext {
  daemon: E2eDaemon;
  transport: 'grpc' | 'docker';
}

export interface Scenario {
  name: string;
  /** Scenarios that do not use a daemon run once, not per daemon. */
  perDaemon: boolean;
  run(ctx: ScenarioContext): Promise<void>;
}

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });


export const foundationScenarios: Scenario[] = [
  {
    name: 'ListWorkers returns the daemon worker',
    perDaemon: true,
    async run(ctx) {
      await using client = await connect(ctx);
      const workers = await client.listWorkers();
      assert.ok(workers.length >= 1, 'at least one worker');
      assert.ok(workers[0]!.id.length > 0, 'worker has an ID');
      assert.ok(workers[0]!.platforms.some((p) => p.os === 'linux'), 'worker builds for linux');
    },
  },
  {
    name: 'local source served by our session, mkfile, local export through FileSend',
    perDaemon: true,
    async run(ctx) {
      using src = tempDir();
      using out = tempDir();
      writeTree(src.dir, {
        'a.txt': 'alpha\n',
        'run.sh': { content: '#!/bin/sh\necho run\n', mode: 0o755 },
        'nested/deeper/leaf.txt': 'leaf\n',
        'nested/empty/': null,
        'nested/link-to-a': { symlink: '../a.txt' },
      });
      await using client = await connect(ctx);
      const sync = new FileSyncProvider({ src: { dir: src.dir } });
      const exportDir = path.join(out.dir, 'export');
      const send = new FileSendProvider(new Map([[0, { kind: 'directory', dir: exportDir }]]));
      await using session = await client.openSession({ attachables: [sync, send] });
      const graph = State.scratch()
        .copy(State.local('src', { sessionId: session.id }), '/', '/', { copyDirContents: true })
        .mkfile('/generated.txt', 'made by LLB\n', { mode: 0o600 });
      const progress = new ProgressTracker();
      await client.solve(
        { session: session.id, definition: marshal(graph), exporters: [{ type: 'local', attrs: {} }] },
        { onStatus: progress.update },
      );

      assert.deepEqual(readTree(exportDir), {
        'a.txt': 'file 644 alpha\n',
        'generated.txt': 'file 600 made by LLB\n',
        nested: 'dir 755',
        'nested/deeper': 'dir 755',
        'nested/deeper/leaf.txt': 'file 644 leaf\n',
        'nested/empty': 'dir 755',
        'nested/link-to-a': 'link -> ../a.txt',
        'run.sh': 'file 755 #!/bin/sh\necho run\n',
      });
      assert.equal(sync.counters.diffCopyCalls, 1, 'one DiffCopy for the local source');
      assert.equal(sync.counters.filesSent, 3, 'three regular files sent');
      assert.equal(send.received.length, 1, 'one FileSend transfer');
      const names = progress.vertexes.map((v) => v.name);
      assert.ok(names.includes('local://src'), `local source vertex reported (${names.join(', ')})`);
      assert.ok(progress.vertexes.length >= 4, 'local, copy, mkfile and export vertices reported');
      assert.deepEqual(progress.incomplete.map((v) => v.name), [], 'every vertex completed');
      assert.deepEqual(progress.failed.map((v) => v.name), [], 'no vertex failed');
    },
  },
  {
    name: 'a closed session is gone from the daemon',
    perDaemon: true,
    async run(ctx) {
      using src = tempDir();
      writeTree(src.dir, { 'x.txt': 'x' });
      await using client = await connect(ctx);
      const session = await client.openSession({ attachables: [new FileSyncProvider({ src: { dir: src.dir } })] });
      const id = session.id;
      await session.close();
      const closedAt = Date.now();
      const graph = State.scratch().copy(State.local('src', { sessionId: id }), '/', '/');
      const solveWithClosed = () => rejection(client.solve({ session: id, definition: marshal(graph) }));
      // Over Control/Session the first solve is refused once the daemon has waited for the
      // session (about 10 s on BuildKit 0.13 and 0.25, 5 s on 0.8). Over the Engine's /session
      // upgrade it notices a closed connection at its next health check (1–5 s interval) and
      // until then answers with transport errors: poll (about 16 s in all, 6 s on 0.8). Both
      // bounds count from the close, every attempt included: twice those times, and well
      // below the test's 60 s timeout.
      const boundMs = ctx.transport === 'docker' ? 40_000 : 20_000;
      let { error } = await solveWithClosed();
      assert.ok(error instanceof BuildkitError, 'a BuildkitError');
      while (ctx.transport === 'docker' && !/no active session/.test(error.message) && Date.now() - closedAt < boundMs) {
        await new Promise((r) => setTimeout(r, 1_000));
        ({ error } = await solveWithClosed());
      }
      const took = Date.now() - closedAt;
      assert.match(error.message, /no active session/);
      assert.ok(took < boundMs, `refused as an unknown session within ${boundMs / 1000} s of the close (took ${took} ms)`);
      assert.ok(!error.message.includes(id), 'the session ID is not in the message');
    },
  },
  {
    name: 'a session dropped mid-transfer fails the solve clearly, without hanging',
    perDaemon: true,
    async run(ctx) {
      await using client = await connect(ctx);
      // A FileSync that never answers: the transfer is in flight when the connection drops.
      let called!: () => void;
      const stalled = new Promise<void>((resolve) => (called = resolve));
      const hanging: Attachable = {
        register(registry) {
          const identity = (b: Buffer) => b;
          registry.addService(
            { DiffCopy: { path: '/moby.filesync.v1.FileSync/DiffCopy', requestStream: true, responseStream: true, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity } },
            { DiffCopy: () => called() },
          );
        },
      };
      const session: Session = await client.openSession({ attachables: [hanging] });
      const graph = State.scratch().copy(State.local('src', { sessionId: session.id }), '/', '/');
      const solve = client.solve({ session: session.id, definition: marshal(graph) });
      await stalled;
      await session.close();
      const { error, ms } = await rejection(solve);
      assert.ok(error instanceof BuildkitError, 'a BuildkitError');
      assert.ok(ms < 30_000, `failed within 30 s (took ${ms} ms)`);
      assert.equal((error as BuildkitError).code, 'session-closed', error.message);
      assert.match(error.message, /session closed before the solve finished/);
    },
  },
  {
    name: 'tcp:// with TLS and mutual TLS reaches a real daemon (behind a TLS endpoint, in front of an engine and of buildkitd); bad TLS material fails clearly',
    perDaemon: false,
    async run(ctx) {
      using dir = tempDir();
      const pki = makeTestPki(dir.dir);
      // The first daemon, and the standalone buildkitd when that is another one.
      // (A TLS endpoint needs the daemon's local socket: docker:// or unix://.)
      const local = (d: E2eDaemon) => /^(docker|unix):\/\//.test(d.address);
      const daemons = [ctx.daemon, ...e2eEnvironment().daemons.filter((d) => d.kind === 'buildkitd' && d.name !== ctx.daemon.name).slice(0, 1)].filter(local);
      if (daemons.length === 0) skip(`${ctx.daemon.address} has no local socket to put a TLS endpoint in front of`);
      for (const daemon of daemons) for (const mutual of [false, true]) {
        const socket = daemon.address.replace(/^(docker|unix):\/\//, '');
        const endpoint = await startTlsTerminator(pki, socket, { requireClientCert: mutual, engine: daemon.kind === 'docker' });
        try {
          const address = `tcp://127.0.0.1:${endpoint.port}`;
          const tls = mutual ? { caFile: pki.caFile, certFile: pki.clientCert, keyFile: pki.clientKey } : { caFile: pki.caFile };
          {
            await using client = await BuildkitClient.connect({ address, tls });
            assert.ok((await client.listWorkers()).length >= 1, 'ListWorkers over TLS');
            // A session and a solve through the same TLS connection (Control/Session).
            using src = tempDir();
            using out = tempDir();
            writeTree(src.dir, { 'over-tls.txt': 'tls\n' });
            await using session = await client.openSession({
              attachables: [new FileSyncProvider({ src: { dir: src.dir } }), new FileSendProvider(new Map([[0, { kind: 'directory', dir: out.dir }]]))],
            });
            await client.solve({ session: session.id, definition: marshal(State.scratch().copy(State.local('src', { sessionId: session.id }), '/', '/')), exporters: [{ type: 'local', attrs: {} }] });
            assert.deepEqual(readTree(out.dir), { 'over-tls.txt': 'file 644 tls\n' });
          }
          const wrongCa = await rejection(BuildkitClient.connect({ address, tls: { ...tls, caFile: pki.otherCaFile }, timeoutMs: 5_000 }));
          assert.equal((wrongCa.error as BuildkitError).code, 'unavailable', wrongCa.error.message);
          assert.ok(wrongCa.error.message.includes(address), 'the address is named');
          if (mutual) {
            const noClientCert = await rejection(BuildkitClient.connect({ address, tls: { caFile: pki.caFile }, timeoutMs: 5_000 }));
            assert.ok(noClientCert.ms < 10_000, 'a refused client certificate fails within 10 s');
            assert.ok(noClientCert.error.message.includes(address));
          }
          const missing = await rejection(BuildkitClient.connect({ address, tls: { caFile: path.join(dir.dir, 'nope.pem') } }));
          assert.match(missing.error.message, /cannot read TLS CA file .*nope\.pem/);
          const halfPair = await rejection(BuildkitClient.connect({ address, tls: { caFile: pki.caFile, certFile: pki.clientCert } }));
          assert.match(halfPair.error.message, /certificate and key must be given together/);
        } finally {
          await endpoint.close();
        }
      }
    },
  },
  {
    name: 'an unreachable builder address fails clearly within 10 s',
    perDaemon: false,
    async run() {
      for (const address of ['unix:///nonexistent/buildkitd.sock', 'tcp://127.0.0.1:1', 'docker:///nonexistent/docker.sock']) {
        const { error, ms } = await rejection(BuildkitClient.connect({ address, timeoutMs: 5_000 }));
        assert.ok(error instanceof BuildkitError, `${address}: a BuildkitError`);
        assert.equal(error.code, 'unavailable', `${address}: code unavailable (${error.message})`);
        assert.ok(error.message.includes(address.replace('docker://', 'docker://')), `${address}: named in "${error.message}"`);
        assert.ok(ms < 10_000, `${address}: failed within 10 s (took ${ms} ms)`);
      }
    },
  },
];
