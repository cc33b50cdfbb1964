/**
 * The multi-target engine under faults: the daemon dies mid-run, the shared
 * session's connection is cut under a transfer, transient failures are
 * retried and permanent ones are not, and a trimmed load run leaves no file
 * descriptor or session behind. Tests that kill a daemon use a private
 * engine of their own (e2e/support/private-engine.ts), never the shared
 * ones. Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { BuildkitClient, FileSyncProvider, type BuildSpec, type SessionDialer } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import { runTargets, type RunEvent, type RunReport } from '../../plugin/engine/index';
import { e2eEnvironment } from '../support/daemons';
import { tempDir, writeTree } from '../support/files';
import { printed } from '../support/expect-failure';
import { skip } from '../support/skip';
import { isAlive, PrivateEngine } from '../support/private-engine';
import { PrivateBuildkitd } from '../support/private-buildkitd';
import { runLoad } from '../soak/run-load';
import type { Scenario, ScenarioContext } from './foundation';

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });

function spec(name: string, contextDir: string, out: string, extra: Partial<BuildSpec> = {}): BuildSpec {
  return { name, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false, outputs: [{ type: 'local', dest: out }], ...extra };
}

function target(id: string, s: BuildSpec, extra: Partial<ImageTarget> = {}): ImageTarget {
  return { id, spec: s, dependsOn: [], contextPolicy: 'shared', ...extra };
}

const errorOf = (report: RunReport, id: string) => {
  const o = report.outcomes.find((x) => x.id === id)!;
  return 'error' in o ? printed(o.error) : '';
};
const statuses = (report: RunReport) => Object.fromEntries(report.outcomes.map((o) => [o.id, o.status]));

/** PIDs of every live process below this one. */
function descendants(): Set<number> {
  const parents = new Map<number, number>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] !== 'Z') parents.set(Number(name), Number(fields[1]));
    } catch {
      // Gone meanwhile.
    }
  }
  const out = new Set<number>();
  let added = true;
  while (added) {
    added = false;
    for (const [pid, ppid] of parents) {
      if (!out.has(pid) && (ppid === process.pid || out.has(ppid))) {
        out.add(pid);
        added = true;
      }
    }
  }
  return out;
}

const commandOf = (pid: number) => {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ').trim();
  } catch {
    return '(gone)';
  }
};

async function waitFor(what: string, check: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Record the connections of the client's shared sessions (they announce
 * themselves as `nx-buildkit-shared`) and hand each one's FileSync provider
 * to `onShared` before the daemon can call it.
 */
function watchSharedSessions(client: BuildkitClient, onShared: (sync: FileSyncProvider, connection: () => Duplex | undefined) => void): void {
  const dialer = client.sessionDialer.bind(client);
  const openSession = client.openSession.bind(client);
  let last: Duplex | undefined;
  client.sessionDialer = (): SessionDialer => {
    const dial = dialer();
    return async (headers, signal) => {
      const duplex = await dial(headers, signal);
      if (headers.name === 'nx-buildkit-shared') last = duplex;
      return duplex;
    };
  };
  client.openSession = async (options = {}) => {
    const sync = options.attachables?.find((a): a is FileSyncProvider => a instanceof FileSyncProvider);
    let connection: Duplex | undefined;
    if (options.name === 'nx-buildkit-shared' && sync) onShared(sync, () => connection);
    const session = await openSession(options);
    if (options.name === 'nx-buildkit-shared') connection = last;
    return session;
  };
}

/** Call `fn` (once) when the provider's first DiffCopy call starts. */
function onFirstDiffCopy(sync: FileSyncProvider, fn: () => void): void {
  let calls = sync.counters.diffCopyCalls;
  Object.defineProperty(sync.counters, 'diffCopyCalls', {
    enumerable: true,
    get: () => calls,
    set: (n: number) => {
      calls = n;
      if (n === 1) queueMicrotask(fn);
    },
  });
}

/**
 * A TCP proxy in front of a registry that resets every connection while
 * `failing` is true, then forwards: a registry that is briefly unreachable.
 */
async function flakyProxy(upstream: { host: string; port: number }): Promise<{ port: number; failing: boolean; resets: number; close(): Promise<void> }> {
  const sockets = new Set<net.Socket>();
  const state = { port: 0, failing: true, resets: 0, close: async () => {} };
  const server = net.createServer((client) => {
    sockets.add(client);
    client.once('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (state.failing) {
      state.resets++;
      // RST rather than FIN: what a crashed or overloaded registry looks like.
      if (typeof client.resetAndDestroy === 'function') client.resetAndDestroy();
      else client.destroy();
      return;
    }
    const up = net.connect(upstream.port, upstream.host);
    sockets.add(up);
    up.once('close', () => sockets.delete(up));
    up.on('error', () => client.destroy());
    client.on('close', () => up.destroy());
    up.on('close', () => client.destroy());
    client.pipe(up);
    up.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as net.AddressInfo).port;
  state.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return state;
}

/** A daemon of our own that a test may kill and restart. */
interface PrivateDaemon extends AsyncDisposable {
  readonly address: string;
  /** Host PID of the daemon process (0 when it is not running). */
  readonly pid: number;
  kill(signal?: NodeJS.Signals): Promise<void>;
  restart(): Promise<void>;
  /** Freeze the daemon (SIGSTOP); kill() ends it even then. */
  pause(): void;
}

interface PrivateDaemonKind {
  name: string;
  unavailable(): string | undefined;
  start(): Promise<PrivateDaemon>;
}

const privateDaemons = {
  engine: { name: 'Docker engine', unavailable: () => PrivateEngine.unavailableReason(), start: () => PrivateEngine.start() },
  buildkitd: { name: 'buildkitd', unavailable: () => PrivateBuildkitd.unavailableReason(), start: () => PrivateBuildkitd.start() },
} satisfies Record<string, PrivateDaemonKind>;

/**
 * Six targets (one forwarding an SSH key) sleep in RUN steps when the
 * daemon is killed: each fails within 30 s naming the builder, after the
 * default retries; no session, process or RUN step is left; after a restart
 * the same client builds again.
 */
async function daemonDiesMidRun(kind: PrivateDaemonKind): Promise<void> {
  const unavailable = kind.unavailable();
  if (unavailable) skip(`no private ${kind.name}: ${unavailable}`);
  using tmp = tempDir();
  const contextDir = path.join(tmp.dir, 'ctx');
  // A sleep length unique to this run, to find exactly its RUN steps on this machine.
  const seconds = 400 + (Date.now() % 500);
  const marker = `sleep ${seconds}`;
  const key = path.join(tmp.dir, 'id_ed25519');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'faults', '-f', key], { stdio: 'ignore' });
  writeTree(contextDir, {
    Dockerfile: `FROM nxbk-base\nARG N\nRUN echo "$N" && ${marker}\n`,
    'Ssh.Dockerfile': `FROM nxbk-base\nARG N\nRUN --mount=type=ssh,id=deploy echo "$N" && ${marker}\n`,
    'Quick.Dockerfile': 'FROM nxbk-base\nARG N\nRUN echo "$N" > /n\n',
  });
  await using engine = await kind.start();
  const baseline = descendants();
  await using client = await BuildkitClient.connect({ address: engine.address });
  const targets = Array.from({ length: 6 }, (_, i) => target(`t${i}`, spec(`t${i}`, contextDir, path.join(tmp.dir, `o${i}`), {
    buildArgs: { N: String(i) },
    // One target forwards an SSH key: a private ssh-agent process of ours runs while it builds.
    ...(i === 5 ? { dockerfile: path.join(contextDir, 'Ssh.Dockerfile'), ssh: [{ id: 'deploy', paths: [key] }] } : {}),
  })));
  const running = new Set<string>();
  const retries: Array<Extract<RunEvent, { type: 'retry' }>> = [];
  const run = runTargets(client, targets, {
    concurrency: 6,
    mode: 'keep-going',
    onEvent: (e) => {
      if (e.type === 'retry') retries.push(e);
      if (e.type === 'status' && e.status.vertexes.some((v) => v.name.includes(marker) && v.started && !v.completed)) running.add(e.id);
    },
  });
  const sleeping = () => spawnSync('pgrep', ['-f', `^${marker}$`]).status === 0;
  await waitFor('all six RUN steps to run', () => running.size === 6 && sleeping(), 60_000);
  const ours = [...descendants()].filter((p) => !baseline.has(p)).map(commandOf);
  assert.ok(ours.some((c) => c.includes('ssh-agent')), `a private ssh-agent runs while building (${ours.join('; ')})`);

  const killedAt = Date.now();
  const daemonPid = engine.pid;
  await engine.kill('SIGKILL');
  const report = await run;
  const took = Date.now() - killedAt;
  assert.ok(took < 30_000, `runTargets returned ${took} ms after the daemon died`);
  assert.deepEqual(Object.values(statuses(report)), Array(6).fill('failed'));
  for (const t of targets) {
    const message = errorOf(report, t.id);
    assert.ok(message.startsWith(`${t.id}: `), message);
    assert.ok(message.includes(engine.address), `the error names the builder: ${message}`);
    assert.match(message, /lost the connection to the builder|cannot reach the builder/);
  }
  // Transient: retried (default policy, 2 retries), each retry announced, and bounded.
  assert.ok(report.outcomes.every((o) => o.attempts === 3), `attempts: ${report.outcomes.map((o) => o.attempts)}`);
  assert.equal(retries.length, 12);
  assert.equal(report.openSessionsAfter, 0, 'every session of the run is closed');
  assert.equal(client.openSessionCount, 0);
  assert.equal(isAlive(daemonPid), false, `${kind.name} is gone`);
  assert.equal(sleeping(), false, 'no RUN step of the dead daemon still runs');
  await waitFor('our child processes to end', () => [...descendants()].every((p) => baseline.has(p) && isAlive(p)), 5_000)
    .catch(() => assert.fail(`left behind: ${[...descendants()].filter((p) => !baseline.has(p)).map(commandOf).join('; ')}`));

  await engine.restart();
  const again = await runTargets(client, targets.map((t) => ({ ...t, spec: { ...t.spec, dockerfile: path.join(contextDir, 'Quick.Dockerfile'), ssh: [] } })), { concurrency: 6, mode: 'keep-going' });
  assert.deepEqual(Object.values(statuses(again)), Array(6).fill('succeeded'), JSON.stringify(again.outcomes.map((o) => errorOf(again, o.id))));
  for (let i = 0; i < 6; i++) assert.equal(fs.readFileSync(path.join(tmp.dir, `o${i}`, 'n'), 'utf8').trim(), String(i));
  assert.equal(again.openSessionsAfter, 0);
}

/**
 * Two targets sleep in RUN steps and a third has finished when the daemon is
 * frozen (SIGSTOP): the run returns within 40 s, the sleepers failed saying
 * the builder stopped answering (not retried), the finished one kept its
 * output, and every session is closed.
 */
async function daemonHangsMidRun(kind: PrivateDaemonKind): Promise<void> {
  const unavailable = kind.unavailable();
  if (unavailable) skip(`no private ${kind.name}: ${unavailable}`);
  using tmp = tempDir();
  const contextDir = path.join(tmp.dir, 'ctx');
  const marker = `sleep ${400 + (Date.now() % 500)}`;
  writeTree(contextDir, {
    Dockerfile: `FROM nxbk-base\nARG N\nRUN echo "$N" && ${marker}\n`,
    'Quick.Dockerfile': `FROM nxbk-base\nRUN echo ${Date.now()} > /n\n`,
  });
  await using daemon = await kind.start();
  await using client = await BuildkitClient.connect({ address: daemon.address });
  const running = new Set<string>();
  const ended = new Set<string>();
  const run = runTargets(client, [
    target('quick', spec('quick', contextDir, path.join(tmp.dir, 'quick'), { dockerfile: path.join(contextDir, 'Quick.Dockerfile') })),
    ...['s1', 's2'].map((id) => target(id, spec(id, contextDir, path.join(tmp.dir, id), { buildArgs: { N: id } }))),
  ], {
    concurrency: 3,
    mode: 'keep-going',
    onEvent: (e) => {
      if (e.type === 'end') ended.add(e.outcome.id);
      if (e.type === 'status' && e.status.vertexes.some((v) => v.name.includes(marker) && v.started && !v.completed)) running.add(e.id);
    },
  });
  await waitFor('both sleeping RUN steps to run and the quick target to end', () => running.size === 2 && ended.has('quick'), 60_000);
  const stoppedAt = Date.now();
  daemon.pause();
  const report = await run;
  const took = Date.now() - stoppedAt;
  assert.ok(took < 40_000, `runTargets returned ${took} ms after the daemon stopped`);
  assert.deepEqual(statuses(report), { quick: 'succeeded', s1: 'failed', s2: 'failed' }, JSON.stringify(report.outcomes.map((o) => errorOf(report, o.id))));
  for (const id of ['s1', 's2']) {
    const message = errorOf(report, id);
    assert.ok(message.startsWith(`${id}: `), message);
    assert.ok(message.includes(`the builder at ${daemon.address} stopped answering`), message);
  }
  assert.ok(fs.existsSync(path.join(tmp.dir, 'quick', 'n')), 'the target that finished before the hang kept its output');
  assert.equal(report.openSessionsAfter, 0, 'every session of the run is closed');
}

export const faultScenarios: Scenario[] = [
  {
    name: 'the daemon dies mid-run: every target fails naming the builder within 30 s, no session or process is left; after a restart the same client builds again',
    perDaemon: false,
    run: () => daemonDiesMidRun(privateDaemons.engine),
  },
  {
    name: 'a standalone buildkitd dies mid-run: every target fails naming the builder within 30 s, no session or process is left; after a restart the same client builds again',
    perDaemon: false,
    run: () => daemonDiesMidRun(privateDaemons.buildkitd),
  },
  {
    name: 'the daemon hangs mid-run (SIGSTOP): the running targets fail within 40 s saying the builder stopped answering, a finished one keeps its result, no session is left',
    perDaemon: false,
    run: () => daemonHangsMidRun(privateDaemons.engine),
  },
  {
    name: 'a standalone buildkitd hangs mid-run (SIGSTOP): the running targets fail within 40 s saying the builder stopped answering, a finished one keeps its result, no session is left',
    perDaemon: false,
    run: () => daemonHangsMidRun(privateDaemons.buildkitd),
  },
  {
    name: "the shared session's connection is cut under a DiffCopy: without retries its targets fail saying so, with retries it is reopened and they succeed; an isolated target is unaffected",
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const sharedDir = path.join(tmp.dir, 'shared');
      const ownDir = path.join(tmp.dir, 'own');
      const files: Record<string, string> = { Dockerfile: 'FROM nxbk-base\nARG N\nCOPY data /data\nRUN echo "$N" > /n && cat /data/* | wc -c > /size\n' };
      for (let i = 0; i < 32; i++) files[`data/f${i}.txt`] = `${i}`.padEnd(256 * 1024, '.');
      writeTree(sharedDir, files);
      writeTree(ownDir, { Dockerfile: 'FROM nxbk-base\nARG N\nCOPY data /data\nRUN echo "$N" > /n\n', 'data/own.txt': 'own\n' });
      const size = String(32 * 256 * 1024);
      const targets = (run: string) => [
        ...['s1', 's2', 's3'].map((id) => target(id, spec(id, sharedDir, path.join(tmp.dir, run, id), { buildArgs: { N: `${run}-${id}-${Date.now()}` } }))),
        target('iso', spec('iso', ownDir, path.join(tmp.dir, run, 'iso'), { buildArgs: { N: `${run}-iso-${Date.now()}` } }), { contextPolicy: 'isolated' }),
      ];
      const cutOnce = (client: BuildkitClient) => {
        let cut = false;
        watchSharedSessions(client, (sync, connection) => {
          if (cut) return;
          onFirstDiffCopy(sync, () => {
            cut = true;
            connection()?.destroy();
          });
        });
        return () => cut;
      };

      // Without retries: the shared targets fail and say why; the isolated one succeeds (keep-going).
      {
        await using client = await connect(ctx);
        const wasCut = cutOnce(client);
        const report = await runTargets(client, targets('a'), { concurrency: 4, mode: 'keep-going', retries: false, sharedKey: `e2e-cut-${Date.now()}` });
        assert.ok(wasCut(), 'the shared session was cut');
        assert.deepEqual(statuses(report), { s1: 'failed', s2: 'failed', s3: 'failed', iso: 'succeeded' }, JSON.stringify(report.outcomes.map((o) => errorOf(report, o.id))));
        for (const id of ['s1', 's2', 's3']) assert.match(errorOf(report, id), new RegExp(`^${id}: the run's shared session .*closed`));
        assert.ok(report.outcomes.every((o) => o.attempts === 1));
        assert.equal(fs.readFileSync(path.join(tmp.dir, 'a', 'iso', 'data', 'own.txt'), 'utf8'), 'own\n');
        assert.equal(report.openSessionsAfter, 0);
      }
      // With the default retries: the shared session is opened again and every target succeeds.
      {
        await using client = await connect(ctx);
        const wasCut = cutOnce(client);
        const retries: Array<Extract<RunEvent, { type: 'retry' }>> = [];
        const report = await runTargets(client, targets('b'), {
          concurrency: 4, mode: 'keep-going', sharedKey: `e2e-cut-${Date.now()}`,
          onEvent: (e) => e.type === 'retry' && retries.push(e),
        });
        assert.ok(wasCut(), 'the shared session was cut');
        assert.deepEqual(statuses(report), { s1: 'succeeded', s2: 'succeeded', s3: 'succeeded', iso: 'succeeded' }, JSON.stringify(report.outcomes.map((o) => errorOf(report, o.id))));
        assert.ok(retries.length >= 1, 'at least one target was retried');
        assert.ok(retries.every((r) => ['s1', 's2', 's3'].includes(r.id) && r.attempt === 2 && /session/.test(r.reason)), JSON.stringify(retries));
        assert.equal(report.outcomes.find((o) => o.id === 'iso')!.attempts, 1, 'the isolated target was not retried');
        assert.equal(report.sharedSessions.reduce((n, s) => n + s.reopened, 0), 1, 'the shared session was opened again once');
        for (const id of ['s1', 's2', 's3']) assert.equal(fs.readFileSync(path.join(tmp.dir, 'b', id, 'size'), 'utf8').trim(), size);
        assert.equal(report.openSessionsAfter, 0);
      }
    },
  },
  {
    name: 'permanent failures (Dockerfile syntax error, missing required secret) are attempted once, without retries',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, {
        Dockerfile: 'FROM nxbk-base\nRUNN echo broken\n',
        'Secret.Dockerfile': 'FROM nxbk-base\nRUN --mount=type=secret,id=absent,required=true cat /run/secrets/absent\n',
        'Ok.Dockerfile': `FROM nxbk-base\nRUN echo ${Date.now()} > /n\n`,
      });
      await using client = await connect(ctx);
      const retries: RunEvent[] = [];
      const report = await runTargets(client, [
        target('syntax', spec('syntax', contextDir, path.join(tmp.dir, 'o1'))),
        target('secret', spec('secret', contextDir, path.join(tmp.dir, 'o2'), { dockerfile: path.join(contextDir, 'Secret.Dockerfile') })),
        target('fine', spec('fine', contextDir, path.join(tmp.dir, 'o3'), { dockerfile: path.join(contextDir, 'Ok.Dockerfile') })),
      ], { concurrency: 3, mode: 'keep-going', retries: { attempts: 3, baseDelayMs: 10 }, onEvent: (e) => e.type === 'retry' && retries.push(e) });
      assert.deepEqual(statuses(report), { syntax: 'failed', secret: 'failed', fine: 'succeeded' });
      assert.match(errorOf(report, 'syntax'), /^syntax: .*(RUNN|unknown instruction)/is);
      assert.match(errorOf(report, 'secret'), /^secret: .*absent/s);
      assert.deepEqual(retries, [], 'nothing was retried');
      assert.deepEqual(report.outcomes.map((o) => o.attempts), [1, 1, 1]);
    },
  },
  {
    name: 'a push to a registry that resets its connections is retried and lands once the registry answers',
    perDaemon: false,
    async run() {
      const env = e2eEnvironment();
      const daemon = env.daemons.find((d) => d.imageStore === 'containerd');
      if (!daemon || !env.registry) skip('needs an engine with the containerd image store (push) and the test registry');
      const [host, port] = env.registry.split(':') as [string, string];
      const proxy = await flakyProxy({ host, port: Number(port) });
      try {
        using tmp = tempDir();
        writeTree(tmp.dir, { Dockerfile: `FROM nxbk-base\nRUN echo ${Date.now()} > /stamp\n` });
        await using client = await BuildkitClient.connect({ address: daemon.address });
        const tag = `t${Date.now()}`;
        const name = `127.0.0.1:${proxy.port}/nxbk-e2e/flaky-push:${tag}`;
        const retries: Array<Extract<RunEvent, { type: 'retry' }>> = [];
        const report = await runTargets(client, [target('push', {
          name: 'push', contextDir: tmp.dir, dockerfile: path.join(tmp.dir, 'Dockerfile'), network: 'none', auth: false,
          outputs: [{ type: 'image', names: [name], push: true, insecure: true }],
        })], {
          concurrency: 1,
          mode: 'keep-going',
          retries: { attempts: 2, baseDelayMs: 200, maxDelayMs: 400 },
          onEvent: (e) => {
            if (e.type !== 'retry') return;
            retries.push(e);
            // The registry comes back before the second attempt.
            proxy.failing = false;
          },
        });
        assert.ok(proxy.resets >= 1, 'the first attempt met the resets');
        assert.deepEqual(statuses(report), { push: 'succeeded' }, errorOf(report, 'push'));
        assert.equal(retries.length, 1, JSON.stringify(retries));
        assert.match(retries[0]!.reason, /connection|registry|unavailable/i);
        assert.equal(report.outcomes[0]!.attempts, 2);
        // The registry serves the manifest digest the solve reported.
        const digest = report.outcomes[0]!.result?.digest;
        assert.match(digest ?? '', /^sha256:[0-9a-f]{64}$/);
        const res = await fetch(`http://${env.registry}/v2/nxbk-e2e/flaky-push/manifests/${tag}`, {
          method: 'HEAD',
          headers: { accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json' },
        });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('docker-content-digest'), digest);
      } finally {
        await proxy.close();
      }
    },
  },
  {
    name: 'the daemon is down for the first attempt: the run waits (retries) and builds once it is back',
    perDaemon: false,
    async run() {
      const unavailable = PrivateEngine.unavailableReason();
      if (unavailable) skip(`no private engine: ${unavailable}`);
      using tmp = tempDir();
      writeTree(tmp.dir, { Dockerfile: 'FROM nxbk-base\nARG N\nRUN echo "$N" > /n\n' });
      await using engine = await PrivateEngine.start();
      await using client = await BuildkitClient.connect({ address: engine.address });
      await engine.kill('SIGKILL');
      let restarting: Promise<void> | undefined;
      const retries: Array<Extract<RunEvent, { type: 'retry' }>> = [];
      let report: RunReport;
      try {
        // Room for an engine that takes 20 s or more to start on a busy machine.
        report = await runTargets(client, ['a', 'b'].map((id) => target(id, spec(id, tmp.dir, path.join(tmp.dir, `o-${id}`), { buildArgs: { N: id } }))), {
          concurrency: 2,
          mode: 'keep-going',
          retries: { attempts: 12, baseDelayMs: 500, maxDelayMs: 4_000 },
          onEvent: (e) => {
            if (e.type !== 'retry') return;
            retries.push(e);
            restarting ??= engine.restart(60_000);
          },
        });
      } finally {
        // The restart runs beside the run: it ends before the engine is disposed of, and its failure is this test's.
        await restarting;
      }
      assert.ok(retries.length >= 1, 'the first attempt failed and was retried');
      assert.match(retries[0]!.reason, /builder was unavailable/);
      assert.ok(retries[0]!.reason.includes(engine.address), retries[0]!.reason);
      assert.deepEqual(statuses(report), { a: 'succeeded', b: 'succeeded' }, JSON.stringify(report.outcomes.map((o) => errorOf(report, o.id))));
      for (const id of ['a', 'b']) assert.equal(fs.readFileSync(path.join(tmp.dir, `o-${id}`, 'n'), 'utf8').trim(), id);
      assert.equal(report.openSessionsAfter, 0);
    },
  },
  {
    name: 'load: 20 targets at concurrency 4 all succeed; file descriptors and sessions return to their baseline',
    perDaemon: false,
    async run() {
      const daemon = e2eEnvironment().daemons[0]!;
      const result = await runLoad({ address: daemon.address, targets: 20, concurrency: 4, contexts: 3 });
      assert.deepEqual(result.problems, [], JSON.stringify(result));
      assert.equal(result.succeeded, 20);
      assert.ok(result.fds.after <= result.fds.baseline, `file descriptors: ${result.fds.after} after, ${result.fds.baseline} before`);
      assert.equal(result.sessions.after, 0);
      assert.ok(result.sessions.peak <= 3 + 4, `at most the shared sessions plus one per running target were open (${result.sessions.peak})`);
    },
  },
];
