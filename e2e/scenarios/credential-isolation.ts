/**
 * Registry credentials never cross targets (the daemon shares registry auth
 * between concurrent solves: merged image resolution and merged pulls ask
 * whichever session answers first). Against the htpasswd registry of the
 * e2e set-up, through the multi-target engine, each case repeated in one
 * test. Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, type AuthProviderOptions, type BuildSpec, type SolveStatus } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import { runTargets, type RunEvent, type RunReport } from '../../plugin/engine/index';
import { formatPlan } from '../../plugin/engine/index';
import { e2eEnvironment } from '../support/daemons';
import { printed } from '../support/expect-failure';
import { tempDir } from '../support/files';
import { pushLargePrivateImage } from '../support/private-image';
import type { Scenario, ScenarioContext } from './foundation';

/** From daemons.json, or (for an external builder) the variables of daemons.env. */
const registry = e2eEnvironment().registryAuth ?? registryFromVariables();

function registryFromVariables() {
  const { NXBK_REGISTRY_AUTH: address, NXBK_REGISTRY_AUTH_USERNAME: username, NXBK_REGISTRY_AUTH_PASSWORD: password } = process.env;
  return address && username && password ? { address, username, password } : undefined;
}
const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });

/** Repetitions of each case (the bar: 10 of 10). */
const repetitions = Number(process.env.NXBK_E2E_CREDENTIAL_REPETITIONS ?? 10);
/** The random layer of the large base: big enough that pulling and unpacking it takes seconds here. */
const largeLayerBytes = 32 * 1024 * 1024;

/** A Docker config dir with or without the registry's credentials. */
function authOptions(root: string, name: string, withAccess: boolean): AuthProviderOptions {
  const configDir = path.join(root, `docker-config-${name}`);
  fs.mkdirSync(configDir, { recursive: true });
  const auths = withAccess
    ? { [registry!.address]: { auth: Buffer.from(`${registry!.username}:${registry!.password}`).toString('base64') } }
    : { 'other.example:5000': { auth: Buffer.from('someone:not-for-this-registry').toString('base64') } };
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ auths }));
  return { configDir, env: {} };
}

/** A target with its own context directory holding `dockerfile`, exporting locally to `<root>/out-<id>`. */
function target(root: string, id: string, dockerfile: string, auth: AuthProviderOptions, extra: Partial<BuildSpec> = {}): ImageTarget {
  const contextDir = path.join(root, `ctx-${id}`);
  fs.mkdirSync(contextDir, { recursive: true });
  fs.writeFileSync(path.join(contextDir, 'Dockerfile'), dockerfile);
  return {
    id,
    dependsOn: [],
    contextPolicy: 'shared',
    spec: { name: id, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', pull: true, auth, outputs: [{ type: 'local', dest: path.join(root, `out-${id}`) }], ...extra },
  };
}

/** Daemon-side activity of every target: its vertices with the daemon's timestamps. */
class Activity {
  readonly vertices = new Map<string, Map<string, { name: string; started?: number; completed?: number; error?: string }>>();
  readonly onEvent = (e: RunEvent) => {
    if (e.type === 'status') this.record(e.id, e.status);
  };

  private record(id: string, status: SolveStatus): void {
    const byDigest = this.vertices.get(id) ?? this.vertices.set(id, new Map()).get(id)!;
    for (const v of status.vertexes) {
      const seen = byDigest.get(v.digest) ?? { name: v.name };
      if (v.started) seen.started = Math.min(seen.started ?? Infinity, v.started.getTime());
      if (v.completed) seen.completed = Math.max(seen.completed ?? 0, v.completed.getTime());
      if (v.error) seen.error = v.error;
      byDigest.set(v.digest, seen);
    }
  }

  /** From the first vertex the daemon started for `id` to the last it completed. */
  window(id: string): { from: number; to: number } {
    const all = [...(this.vertices.get(id)?.values() ?? [])];
    const from = Math.min(...all.map((v) => v.started ?? Infinity));
    const to = Math.max(...all.map((v) => v.completed ?? v.started ?? 0));
    assert.ok(Number.isFinite(from) && to > 0, `the daemon reported activity for ${id}`);
    return { from, to };
  }

  /** When the daemon completed the vertex of `id` whose name matches. */
  completedAt(id: string, name: RegExp): number | undefined {
    return [...(this.vertices.get(id)?.values() ?? [])].find((v) => name.test(v.name) && v.completed)?.completed;
  }
}

/**
 * A private base of this test's own: the daemon merges resolutions of one
 * reference across all its clients, so other tests pulling the shared
 * `nxbk-base` anonymously at the same time must not meet ours.
 */
function privateBase(): Promise<string> {
  return pushLargePrivateImage(registry!, `nxbk-creds-base-${crypto.randomBytes(4).toString('hex')}`, 'latest', 4096);
}

const overlap = (a: { from: number; to: number }, b: { from: number; to: number }) => Math.min(a.to, b.to) - Math.max(a.from, b.from);

function outcome(report: RunReport, id: string) {
  return report.outcomes.find((o) => o.id === id)!;
}

function assertBuilt(report: RunReport, root: string, id: string, file: string, content: string): void {
  const o = outcome(report, id);
  assert.equal(o.status, 'succeeded', `${id}: ${o.status} ${'error' in o ? (o.error as Error)?.message : ''}`);
  assert.equal(fs.readFileSync(path.join(root, `out-${id}`, file), 'utf8').trim(), content, `${id} built its own result`);
}

/** The target's own refusal: its name first, the registry's 401 for the private image. */
function assertOwn401(report: RunReport, id: string, image: string): void {
  const o = outcome(report, id);
  assert.equal(o.status, 'failed', `${id} must fail without credentials (it ${o.status})`);
  const message = printed((o as { error: Error }).error);
  assert.ok(message.startsWith(`${id}: `), `the error names the target: ${message}`);
  assert.match(message, /401 Unauthorized/);
  assert.ok(message.includes(image.split(':')[0]!) || message.includes(registry!.address), `the error names the registry or image: ${message}`);
  assert.equal(o.attempts ?? 1, 1, 'a 401 is not retried');
}

const scenarios: Scenario[] = [
  {
    name: `a without credentials and b, b2 with, FROM one private image, pull, concurrency 4: a fails with its own 401 and b, b2 build, ${repetitions} of ${repetitions}; b and b2 overlap, a neither`,
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const base = await privateBase();
      const none = authOptions(tmp.dir, 'none', false);
      const access = authOptions(tmp.dir, 'access', true);
      await using client = await connect(ctx);
      const tally = { aRefused: 0, bBuilt: 0, b2Built: 0, bothOverlap: 0 };
      for (let rep = 0; rep < repetitions; rep++) {
        const root = path.join(tmp.dir, `rep-${rep}`);
        const nonce = crypto.randomBytes(6).toString('hex');
        // Distinct steps per target (nothing to merge but the base), each long enough to show overlap.
        const step = (id: string) => `FROM ${base}\nRUN echo ${id}-${nonce} > /id && sleep 1\n`;
        const a = target(root, 'a', step('a'), none);
        const b = target(root, 'b', step('b'), access);
        const b2 = target(root, 'b2', step('b2'), access);
        // Either order: the daemon's merged resolution asks whichever session it met first.
        const targets = rep % 2 === 0 ? [a, b, b2] : [b, a, b2];
        const activity = new Activity();
        const report = await runTargets(client, targets, { concurrency: 4, mode: 'keep-going', sharedKey: `e2e-creds-${nonce}`, onEvent: activity.onEvent });
        if (rep === 0) {
          assert.deepEqual(report.plan.credentials.conflicts.map((c) => `${c.a}/${c.b}`).sort(), targets[0] === a ? ['a/b', 'a/b2'] : ['b/a', 'b2/a'].sort());
          assert.match(formatPlan(report.plan), /kept apart:\n.*on 127\.0\.0\.1:5001/);
        }
        assertOwn401(report, 'a', base);
        tally.aRefused++;
        assertBuilt(report, root, 'b', 'id', `b-${nonce}`);
        tally.bBuilt++;
        assertBuilt(report, root, 'b2', 'id', `b2-${nonce}`);
        tally.b2Built++;
        const [wa, wb, wb2] = [activity.window('a'), activity.window('b'), activity.window('b2')];
        assert.ok(overlap(wa, wb) < 0 && overlap(wa, wb2) < 0, `a never overlaps b or b2 on the daemon (a ${JSON.stringify(wa)}, b ${JSON.stringify(wb)}, b2 ${JSON.stringify(wb2)})`);
        assert.ok(overlap(wb, wb2) >= 500, `b and b2 (same credentials) build at the same time on the daemon (overlap ${overlap(wb, wb2)} ms)`);
        tally.bothOverlap++;
        assert.equal(report.openSessionsAfter, 0);
      }
      console.log(`${ctx.daemon.name}: ${JSON.stringify(tally)} of ${repetitions}`);
    },
  },
  {
    name: `a large private base pulled by a and b (same credentials); a ends while the shared pull runs, by failing (keep-going) or by its run being cancelled (solve cancelled, session closed): b finishes, ${repetitions} of ${repetitions}`,
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const access = authOptions(tmp.dir, 'access', true);
      await using client = await connect(ctx);
      await using otherClient = await connect(ctx);
      const repo = `nxbk-creds-large-${crypto.randomBytes(4).toString('hex')}`;
      const base = await privateBase();
      const tally = { failed: 0, cancelled: 0, duringPull: 0, retried: 0 };
      // A fresh random layer every time, so no daemon has it cached and the pull really runs; the next is pushed while this one builds.
      const push = (rep: number) => pushLargePrivateImage(registry!, repo, `r${rep}-${crypto.randomBytes(4).toString('hex')}`, largeLayerBytes);
      let next = push(0);
      for (let rep = 0; rep < repetitions; rep++) {
        const root = path.join(tmp.dir, `rep-${rep}`);
        const nonce = crypto.randomBytes(6).toString('hex');
        const image = await next;
        if (rep + 1 < repetitions) next = push(rep + 1);
        const pullName = new RegExp(`FROM ${image.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);
        const b = target(root, 'b', `FROM ${image}\nRUN wc -c < /big.bin > /size && echo b-${nonce} > /id\n`, access);
        const activity = new Activity();
        let aEnd: number;
        let reportB: RunReport;
        if (rep % 2 === 0) {
          // a fails in a stage that does not need the pull, while the pull both share runs.
          const a = target(root, 'a', [
            `FROM ${image} AS pulled`,
            `FROM ${base} AS failing`,
            `RUN echo a-${nonce} > /id && exit 3`,
            'FROM pulled',
            'COPY --from=failing /id /id',
          ].join('\n') + '\n', access);
          reportB = await runTargets(client, [a, b], { concurrency: 4, mode: 'keep-going', sharedKey: `e2e-creds-${nonce}`, onEvent: activity.onEvent });
          const ao = outcome(reportB, 'a');
          assert.equal(ao.status, 'failed', `a fails (${ao.status})`);
          assert.match((ao as { error: Error }).error.message, /exit code: 3|exit status 3|code 3/);
          aEnd = activity.window('a').to;
          tally.failed++;
        } else {
          // a's own run is cancelled (its solve cancelled, its session closed) as soon as the daemon reports the pull started.
          const a = target(root, 'a', `FROM ${image}\nRUN echo a-${nonce} > /id\n`, access);
          const abort = new AbortController();
          const runA = runTargets(otherClient, [a], {
            concurrency: 4, mode: 'fail-fast', signal: abort.signal, sharedKey: `e2e-creds-a-${nonce}`,
            onEvent: (e) => {
              activity.onEvent(e);
              if (e.type === 'status' && !abort.signal.aborted && e.status.vertexes.some((v) => pullName.test(v.name) && v.started && !v.completed)) {
                setTimeout(() => abort.abort(new Error('cancelled by the test')), 200);
              }
            },
          }).catch((e: unknown) => e);
          reportB = await runTargets(client, [b], { concurrency: 4, mode: 'keep-going', sharedKey: `e2e-creds-b-${nonce}`, onEvent: activity.onEvent });
          const reportA = await runA;
          assert.ok(abort.signal.aborted, 'the pull started and a was cancelled');
          if (!(reportA instanceof Error)) assert.notEqual(outcome(reportA as RunReport, 'a').status, 'succeeded', 'a did not finish');
          tally.cancelled++;
          const aStatus = reportA instanceof Error ? 'cancelled' : outcome(reportA as RunReport, 'a').status;
          assert.ok(aStatus === 'cancelled' || aStatus === 'skipped' || aStatus === 'failed', `a ended (${aStatus})`);
          aEnd = activity.window('a').to;
        }
        assertBuilt(reportB, root, 'b', 'id', `b-${nonce}`);
        assert.equal(fs.readFileSync(path.join(root, 'out-b', 'size'), 'utf8').trim(), String(largeLayerBytes), 'b has the whole large layer');
        if ((outcome(reportB, 'b').attempts ?? 1) > 1) tally.retried++;
        const pullEnd = activity.completedAt('b', pullName);
        if (pullEnd !== undefined && aEnd < pullEnd) tally.duringPull++;
        assert.equal(reportB.openSessionsAfter, 0);
      }
      await next.catch(() => {});
      console.log(`${ctx.daemon.name}: b built ${repetitions} of ${repetitions}; a failed in ${tally.failed}, was cancelled in ${tally.cancelled}, ended while the shared pull still ran in ${tally.duringPull}; b needed a retry in ${tally.retried}`);
      // Otherwise this case would not test what it says.
      assert.ok(tally.duringPull >= Math.ceil(repetitions / 2), `a ended before the shared pull did in ${tally.duringPull} of ${repetitions} runs`);
    },
  },
];

/** The scenarios need the htpasswd registry of e2e/daemons/up.sh. */
export const credentialIsolationScenarios: Scenario[] = registry ? scenarios : [];

/** Why {@link credentialIsolationScenarios} is empty, if it is. */
export const credentialIsolationSkipReason: string | undefined = registry ? undefined : 'no authenticated registry in this e2e environment (registryAuth in daemons.json from e2e/daemons/up.sh, or NXBK_REGISTRY_AUTH, _USERNAME, _PASSWORD)';
