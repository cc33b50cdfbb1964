/**
 * The multi-target engine against real daemons: one shared session for
 * contexts, isolated sessions for secrets, the binding mechanism each daemon
 * generation needs, the scheduler's limits and failure modes, and aborts.
 * Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, privateMethods, type BuildSpec } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import { runTargets, type RunReport } from '../../plugin/engine/index';
import { printed } from '../support/expect-failure';
import { tempDir, writeTree } from '../support/files';
import type { Scenario, ScenarioContext } from './foundation';

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });

/** Which binding mechanism each daemon generation must end up with (found by probing, checked here). */
const expectedMechanism: Record<string, string> = {
  'docker-28': 'local-sessionid', 'docker-28c': 'local-sessionid', 'docker-26': 'frontend-inputs', 'docker-20': 'prefetch',
  // e2e/daemons/up.sh's standalone buildkitd (v0.32; local-sessionid since 0.16).
  buildkitd: 'local-sessionid',
};

/** A context of `files` random files; returns its total size in bytes. */
function randomContext(dir: string, files: number, size: number): number {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  let total = 0;
  for (let i = 0; i < files; i++) {
    const content = Buffer.alloc(size);
    for (let j = 0; j < size; j += 4) content.writeUInt32LE((Math.random() * 2 ** 32) >>> 0, Math.min(j, size - 4));
    fs.writeFileSync(path.join(dir, 'data', `f${i}.bin`), content);
    total += size;
  }
  return total;
}

function spec(name: string, contextDir: string, out: string, extra: Partial<BuildSpec> = {}): BuildSpec {
  return { name, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false, outputs: [{ type: 'local', dest: out }], ...extra };
}

function target(id: string, s: BuildSpec, extra: Partial<ImageTarget> = {}): ImageTarget {
  return { id, spec: s, dependsOn: [], contextPolicy: 'shared', ...extra };
}

function assertAllSucceeded(report: RunReport): void {
  const failed = report.outcomes.filter((o) => o.status !== 'succeeded');
  assert.deepEqual(failed.map((o) => `${o.id}: ${o.status} ${'error' in o ? String((o.error as Error)?.message) : ''}`), []);
}

function assertSharedNeverPrivate(report: RunReport): void {
  for (const s of report.sharedSessions) {
    for (const method of privateMethods) assert.equal(s.calls[method] ?? 0, 0, `shared session received ${method}`);
  }
}

export const sharedSessionScenarios: Scenario[] = [
  {
    name: '8 targets COPY from one context in parallel: the context is sent once (≤ 1.05 × its bytes)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      const bytes = randomContext(contextDir, 40, 64 * 1024);
      fs.writeFileSync(path.join(contextDir, 'Dockerfile'), 'FROM nxbk-base\nARG N\nCOPY data /data\nRUN ls /data | wc -l > /count && echo "$N" > /n\n');
      await using client = await connect(ctx);
      const targets = Array.from({ length: 8 }, (_, i) =>
        target(`app-${i}`, spec(`app-${i}`, contextDir, path.join(tmp.dir, `out-${i}`), { buildArgs: { N: String(i) } })));
      const report = await runTargets(client, targets, { concurrency: 8, mode: 'keep-going', sharedKey: `e2e-${Date.now()}` });
      assertAllSucceeded(report);
      if (expectedMechanism[ctx.daemon.name]) assert.equal(report.mechanism, expectedMechanism[ctx.daemon.name]);
      const sent = report.sharedSessions.reduce((n, s) => n + s.transfer.bytesSent, 0);
      assert.ok(sent >= bytes, `the whole context was sent (${sent} of ${bytes})`);
      assert.ok(sent <= 1.05 * bytes, `sent ${sent} bytes for a ${bytes}-byte context over 8 targets`);
      for (let i = 0; i < 8; i++) {
        assert.equal(fs.readFileSync(path.join(tmp.dir, `out-${i}`, 'count'), 'utf8').trim(), '40');
        assert.equal(fs.readFileSync(path.join(tmp.dir, `out-${i}`, 'n'), 'utf8').trim(), String(i));
        assert.equal(report.outcomes[i]!.result?.transfer.bytesSent, 0, 'no target session sent context bytes');
      }
      assertSharedNeverPrivate(report);
    },
  },
  {
    name: 'a repo-root context: only the paths the Dockerfiles read travel (once for all targets), nothing when they read none, on every binding; a target reading all of it gets all of it',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const root = path.join(tmp.dir, 'repo');
      // What a monorepo's root holds beside the build outputs the images copy: a large node_modules.
      const unread = randomContext(path.join(root, 'node_modules'), 40, 64 * 1024);
      writeTree(root, {
        'dist/a/app.txt': 'app a\n',
        'dist/b/app.txt': 'app b\n',
        'package.json': '{"name":"repo"}\n',
        'tools/run.sh': 'echo tool\n',
        'apps/a/Dockerfile': 'FROM nxbk-base\nCOPY dist/a /app\nCOPY ["package.json", "/app/"]\n',
        'apps/b/Dockerfile': 'FROM nxbk-base\nCOPY dist/b/ /app/\nRUN --mount=type=bind,source=tools,target=/t cat /t/run.sh > /app/tool\n',
        'apps/c/Dockerfile': 'FROM nxbk-base\nCOPY . /all\nRUN ls /all/node_modules/data | wc -l > /count\n',
        'apps/d/Dockerfile': 'FROM nxbk-base\nRUN echo d > /d\n',
      });
      await using client = await connect(ctx);
      const at = (name: string) => target(name, spec(name, root, path.join(tmp.dir, `out-${name}`), { dockerfile: path.join(root, 'apps', name, 'Dockerfile') }));
      const narrow = await runTargets(client, [at('a'), at('b')], { concurrency: 2, mode: 'keep-going', sharedKey: `e2e-root-${Date.now()}` });
      assertAllSucceeded(narrow);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-a', 'app', 'app.txt'), 'utf8'), 'app a\n');
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-a', 'app', 'package.json'), 'utf8'), '{"name":"repo"}\n');
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-b', 'app', 'app.txt'), 'utf8'), 'app b\n');
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-b', 'app', 'tool'), 'utf8'), 'echo tool\n');
      const sent = (r: RunReport) => r.sharedSessions.reduce((n, s) => n + s.transfer.bytesSent, 0) + r.outcomes.reduce((n, o) => n + (o.result?.transfer.bytesSent ?? 0), 0);
      assert.ok(sent(narrow) < 64 * 1024, `sent ${sent(narrow)} bytes; node_modules (${unread} bytes) is read by neither Dockerfile`);
      const none = await runTargets(client, [at('d')], { concurrency: 1, mode: 'keep-going', sharedKey: `e2e-root-none-${Date.now()}` });
      assertAllSucceeded(none);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-d', 'd'), 'utf8'), 'd\n');
      assert.ok(sent(none) < 64 * 1024, `sent ${sent(none)} bytes for a Dockerfile that reads nothing from its context`);
      const whole = await runTargets(client, [at('a'), at('c')], { concurrency: 2, mode: 'keep-going', sharedKey: `e2e-root-all-${Date.now()}` });
      assertAllSucceeded(whole);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-c', 'count'), 'utf8').trim(), '40');
      assert.ok(sent(whole) >= unread, `c copies the whole context: ${sent(whole)} of at least ${unread} bytes sent`);
      assertSharedNeverPrivate(whole);
    },
  },
  {
    name: 'a re-run after changing one file sends about that file (long-lived daemon, same shared key)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      randomContext(contextDir, 30, 64 * 1024);
      fs.writeFileSync(path.join(contextDir, 'Dockerfile'), 'FROM nxbk-base\nCOPY data /data\nRUN cat /data/* | wc -c > /size\n');
      await using client = await connect(ctx);
      const sharedKey = `e2e-incremental-${Date.now()}`;
      const run = () => runTargets(client, [target('a', spec('a', contextDir, path.join(tmp.dir, 'out-a'))), target('b', spec('b', contextDir, path.join(tmp.dir, 'out-b')))], { concurrency: 2, mode: 'keep-going', sharedKey });
      assertAllSucceeded(await run());
      fs.writeFileSync(path.join(contextDir, 'data', 'f7.bin'), Buffer.alloc(100 * 1024, 7));
      const second = await run();
      assertAllSucceeded(second);
      const sent = second.sharedSessions.reduce((n, s) => n + s.transfer.bytesSent, 0);
      assert.ok(sent >= 100 * 1024, `the changed file was sent (${sent} bytes)`);
      assert.ok(sent <= 2 * 100 * 1024, `only about the changed file was sent (${sent} bytes)`);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-a', 'size'), 'utf8').trim(), String(29 * 64 * 1024 + 100 * 1024));
    },
  },
  {
    name: 'session policy: an isolated target reads its context from its own session; non-ASCII context directories work',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const sharedDir = path.join(tmp.dir, 'kontékst ü');
      const privateDir = path.join(tmp.dir, 'private-ctx');
      writeTree(sharedDir, { 'data/ä.txt': 'shared ä\n', Dockerfile: 'FROM nxbk-base\nCOPY data /data\n' });
      writeTree(privateDir, { 'data/p.txt': 'private\n', Dockerfile: 'FROM nxbk-base\nCOPY data /data\n' });
      await using client = await connect(ctx);
      const report = await runTargets(client, [
        target('s1', spec('s1', sharedDir, path.join(tmp.dir, 'o1'))),
        target('s2', spec('s2', sharedDir, path.join(tmp.dir, 'o2'))),
        target('iso', spec('iso', privateDir, path.join(tmp.dir, 'o3')), { contextPolicy: 'isolated' }),
      ], { concurrency: 3, mode: 'keep-going', sharedKey: `e2e-policy-${Date.now()}` });
      assertAllSucceeded(report);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'o1', 'data', 'ä.txt'), 'utf8'), 'shared ä\n');
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'o2', 'data', 'ä.txt'), 'utf8'), 'shared ä\n');
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'o3', 'data', 'p.txt'), 'utf8'), 'private\n');
      const iso = report.plan.targets.find((t) => t.id === 'iso')!;
      assert.equal(iso.context, 'own');
      assert.ok(report.plan.sharedDirs.every((d) => d.dir !== privateDir), 'the shared session does not serve the isolated context');
      assert.ok((report.outcomes.find((o) => o.id === 'iso')!.result?.transfer.bytesSent ?? 0) > 0, "the isolated context came through the target's own session");
      assert.equal(report.outcomes.find((o) => o.id === 's1')!.result?.transfer.bytesSent, 0);
      assertSharedNeverPrivate(report);
    },
  },
  {
    name: "isolation: a target cannot read another target's secret; same secret id with different values stays apart",
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, { Dockerfile: 'FROM nxbk-base\nRUN --mount=type=secret,id=token (cat /run/secrets/token 2>/dev/null || echo none) > /token\n' });
      await using client = await connect(ctx);
      const out = (n: string) => path.join(tmp.dir, `out-${n}`);
      const token = (n: string) => fs.readFileSync(path.join(out(n), 'token'), 'utf8').trim();
      const withSecret = (n: string, value: string) => target(n, spec(n, contextDir, out(n), { secrets: [{ id: 'token', value }] }));
      const without = (n: string) => target(n, spec(n, contextDir, out(n)));

      // Concurrently: A has no secret, B and C the same id with different values.
      const concurrent = await runTargets(client, [without('a'), withSecret('b', 'value-of-b-1234'), withSecret('c', 'value-of-c-5678')], { concurrency: 3, mode: 'keep-going', sharedKey: `e2e-iso-${Date.now()}` });
      assertAllSucceeded(concurrent);
      assert.equal(token('a'), 'none', "A never saw B's or C's secret");
      assert.equal(token('b'), 'value-of-b-1234');
      assert.equal(token('c'), 'value-of-c-5678');
      // One after the other: the second must not get the first one's cached result.
      for (const [n, v] of [['d', 'value-of-d-1111'], ['e', 'value-of-e-2222']] as const) {
        assertAllSucceeded(await runTargets(client, [withSecret(n, v)], { concurrency: 1, mode: 'keep-going' }));
        assert.equal(token(n), v);
      }
      // A required secret that only another target has: A fails clearly, B is unaffected.
      writeTree(contextDir, { 'Required.Dockerfile': 'FROM nxbk-base\nRUN --mount=type=secret,id=only-b,required=true cat /run/secrets/only-b > /token\n' });
      const req = (n: string, secrets: BuildSpec['secrets']) => target(n, { ...spec(n, contextDir, out(n)), dockerfile: path.join(contextDir, 'Required.Dockerfile'), ...(secrets ? { secrets } : {}) });
      const split = await runTargets(client, [req('ra', undefined), req('rb', [{ id: 'only-b', value: 'only-for-b-9999' }])], { concurrency: 2, mode: 'keep-going' });
      const ra = split.outcomes.find((o) => o.id === 'ra')!;
      assert.equal(ra.status, 'failed');
      assert.match(String((ra as { error: Error }).error.message), /only-b/);
      assert.equal(split.outcomes.find((o) => o.id === 'rb')!.status, 'succeeded');
      assert.equal(fs.existsSync(path.join(out('ra'), 'token')), false, "A's build produced nothing");
      for (const r of [concurrent, split]) assertSharedNeverPrivate(r);
    },
  },
  {
    name: 'concurrency limit, dependency order, fail-fast and keep-going, observed on the daemon',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      // A sleep length unique to this run, to find exactly its process on this machine.
      const slowMarker = `sleep ${600 + (Date.now() % 600)}`;
      writeTree(contextDir, {
        Dockerfile: 'FROM nxbk-base\nARG N\nRUN echo "$N" > /n && sleep 1\n',
        'Fail.Dockerfile': 'FROM nxbk-base\nRUN exit 7\n',
        // Far longer than the test: under fail-fast it can only end by being cancelled.
        'Slow.Dockerfile': `FROM nxbk-base\nARG N\nRUN echo "$N" && ${slowMarker}\n`,
        // Fails once slow's RUN step has had time to start, so the cancellation stops a running step.
        'FailLater.Dockerfile': 'FROM nxbk-base\nRUN sleep 3 && exit 7\n',
      });
      await using client = await connect(ctx);
      const runs: Array<{ id: string; start: number; end: number }> = [];
      const starts = new Map<string, number>();
      const limited = await runTargets(
        client,
        Array.from({ length: 6 }, (_, i) => target(`s${i}`, spec(`s${i}`, contextDir, path.join(tmp.dir, `s${i}`), { buildArgs: { N: `${i}-${Date.now()}` } }))),
        {
          concurrency: 2,
          mode: 'keep-going',
          onEvent: (e) => {
            // The daemon's own timestamps of each target's RUN step.
            if (e.type !== 'status') return;
            for (const v of e.status.vertexes) {
              if (!v.name.includes('sleep 1')) continue;
              if (v.started) starts.set(e.id, v.started.getTime());
              if (v.completed && starts.has(e.id)) runs.push({ id: e.id, start: starts.get(e.id)!, end: v.completed.getTime() });
            }
          },
        },
      );
      assertAllSucceeded(limited);
      let peak = 0;
      for (const r of runs) peak = Math.max(peak, runs.filter((o) => o.start < r.end && r.start < o.end && o.id !== r.id).length + 1);
      assert.ok(runs.length >= 6, `saw the RUN step of every target (${runs.length})`);
      assert.ok(peak <= 2, `never more than 2 RUN steps at once on the daemon (saw ${peak})`);

      const failing = (id: string, deps: string[] = []) => target(id, { ...spec(id, contextDir, path.join(tmp.dir, id)), dockerfile: path.join(contextDir, 'Fail.Dockerfile') }, { dependsOn: deps });
      const ok = (id: string, deps: string[] = []) => target(id, spec(id, contextDir, path.join(tmp.dir, id), { buildArgs: { N: `${id}-${Date.now()}` } }), { dependsOn: deps });
      const keepGoing = await runTargets(client, [failing('bad'), ok('child', ['bad']), ok('independent')], { concurrency: 2, mode: 'keep-going' });
      assert.deepEqual(Object.fromEntries(keepGoing.outcomes.map((o) => [o.id, o.status])), { bad: 'failed', child: 'skipped', independent: 'succeeded' });
      assert.match(printed((keepGoing.outcomes[0] as { error: Error }).error), /^bad: .*exit code: 7/s);
      const slow = target('slow', { ...spec('slow', contextDir, path.join(tmp.dir, 'slow'), { buildArgs: { N: `slow-${Date.now()}` } }), dockerfile: path.join(contextDir, 'Slow.Dockerfile') });
      const failsLater = target('bad2', { ...spec('bad2', contextDir, path.join(tmp.dir, 'bad2')), dockerfile: path.join(contextDir, 'FailLater.Dockerfile') });
      const sleeping = () => spawnSync('pgrep', ['-fx', slowMarker]).status === 0;
      let slowRan = false;
      const failFastStarted = Date.now();
      const failFast = await runTargets(client, [failsLater, slow, ok('queued')], {
        concurrency: 2,
        mode: 'fail-fast',
        onEvent: (e) => {
          if (e.type === 'status' && e.id === 'slow' && e.status.vertexes.some((v) => v.name.includes(slowMarker) && v.started)) slowRan = true;
        },
      });
      const failFastMs = Date.now() - failFastStarted;
      const byId = Object.fromEntries(failFast.outcomes.map((o) => [o.id, o.status]));
      assert.deepEqual(byId, { bad2: 'failed', slow: 'cancelled', queued: 'skipped' });
      assert.ok(slowRan, "slow's RUN step was running on the daemon when bad2 failed");
      assert.ok(failFastMs < 45_000, `the fail-fast run ended ${failFastMs} ms after it started, not after slow's ${slowMarker}`);
      // The daemon stopped slow's RUN step (where it runs on this machine).
      const stopDeadline = Date.now() + 10_000;
      while (sleeping() && Date.now() < stopDeadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(sleeping(), false, `slow's RUN step (${slowMarker}) is not running 10 s after the run ended`);
    },
  },
  {
    name: 'aborting mid-run cancels the builds on the daemon and closes every session within 5 s',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      // A sleep length unique to this run, to find exactly its processes on this machine.
      const seconds = 300 + (Date.now() % 600);
      const marker = `sleep ${seconds}`;
      writeTree(contextDir, { Dockerfile: `FROM nxbk-base\nARG N\nRUN echo "$N" && ${marker}\n` });
      await using client = await connect(ctx);
      const controller = new AbortController();
      const running = new Set<string>();
      const run = runTargets(
        client,
        Array.from({ length: 3 }, (_, i) => target(`long-${i}`, spec(`long-${i}`, contextDir, path.join(tmp.dir, `o${i}`), { buildArgs: { N: String(i) } }))),
        {
          concurrency: 3,
          mode: 'keep-going',
          signal: controller.signal,
          onEvent: (e) => {
            if (e.type === 'status' && e.status.vertexes.some((v) => v.name.includes(marker) && v.started && !v.completed)) running.add(e.id);
          },
        },
      );
      const sleeping = () => spawnSync('pgrep', ['-fx', marker]).status === 0;
      const deadline = Date.now() + 30_000;
      while ((running.size < 3 || !sleeping()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(running.size, 3, 'all three builds were running on the daemon');
      assert.ok(sleeping(), 'their RUN steps run on this machine');
      const abortedAt = Date.now();
      controller.abort();
      const report = await run;
      const took = Date.now() - abortedAt;
      assert.ok(took < 5_000, `the run ended ${took} ms after the abort`);
      assert.deepEqual(report.outcomes.map((o) => o.status), ['cancelled', 'cancelled', 'cancelled']);
      // The daemon stopped the RUN steps (they would sleep for minutes otherwise).
      const stopDeadline = abortedAt + 5_000;
      while (sleeping() && Date.now() < stopDeadline) await new Promise((r) => setTimeout(r, 100));
      assert.equal(sleeping(), false, 'no RUN step of the aborted builds is still running 5 s after the abort');
    },
  },
];
