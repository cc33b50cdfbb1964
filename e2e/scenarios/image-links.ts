/**
 * Image→image links against real daemons: a target built FROM another
 * target's image reads exactly that target's result of the same run, linked
 * inside the Docker engine (no push, no load), through named contexts where
 * the frontend has them and a rewritten Dockerfile where it does not
 * (BuildKit 0.8); on a standalone buildkitd (no image store) through an OCI
 * layout the run owns, read as an oci-layout:// named context. The run
 * leaves no link name and no layout behind. Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, type BuildSpec } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import { runTargets, type RunReport } from '../../plugin/engine/index';
import { e2eEnvironment, hasImageExporters } from '../support/daemons';
import { imagesUnder, inspectImage, removeImagesUnder } from '../support/engine-images';
import { tempDir, writeTree } from '../support/files';
import { skip } from '../support/skip';
import type { Scenario, ScenarioContext } from './foundation';

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });
const socketOf = (ctx: ScenarioContext) => ctx.daemon.address.replace(/^docker:\/\//, '');

/** Frontends without named contexts (BuildKit 0.8, Docker 20.10) get a rewritten Dockerfile. */
const expectedMechanism = (ctx: ScenarioContext) => (ctx.daemon.name === 'docker-20' ? 'rewritten' : 'named-context');
/** How a dependant reaches a single-platform base that pushes nothing: the engine's image store, or (buildkitd) the run's OCI layout. */
const expectedVia = (ctx: ScenarioContext) => (ctx.daemon.kind === 'docker' ? 'daemon' : 'layout');

function target(id: string, dir: string, imageNames: string[], extra: Partial<ImageTarget> = {}, spec: Partial<BuildSpec> = {}): ImageTarget {
  return {
    id, dependsOn: [], contextPolicy: 'shared', imageNames,
    spec: { name: id.split(':')[0]!, contextDir: dir, dockerfile: path.join(dir, 'Dockerfile'), network: 'none', auth: false, outputs: [{ type: 'cacheonly' }], ...spec },
    ...extra,
  };
}

function outcomeText(report: RunReport): string[] {
  return report.outcomes.map((o) => `${o.id}: ${o.status}${'error' in o ? ` ${String((o.error as Error)?.message)}` : ''}${'reason' in o ? ` (${o.reason})` : ''}`);
}

/**
 * No name of this run's links is left in the engine (other runs' links are
 * theirs to remove); on buildkitd, the run's layout directory is gone.
 */
async function assertLinksRemoved(ctx: ScenarioContext, report: RunReport, expected: number): Promise<void> {
  assert.deepEqual(report.linkCleanup.failed, []);
  if (ctx.daemon.kind !== 'docker') {
    // One directory per run holds every base's layout.
    assert.equal(report.linkCleanup.removed.length, expected > 0 ? 1 : 0, 'the run\'s layout directory was removed');
    for (const dir of report.linkCleanup.removed) assert.ok(path.basename(dir).startsWith('nx-buildkit-links-') && !fs.existsSync(dir), `${dir} is gone`);
    return;
  }
  assert.equal(report.linkCleanup.removed.length, expected, 'one link name per linked base');
  const left = Object.keys(await imagesUnder(socketOf(ctx), 'nx-buildkit-link'));
  for (const name of report.linkCleanup.removed) assert.ok(!left.includes(name), `${name} is still in the engine: ${left.join(', ')}`);
}

export const imageLinkScenarios: Scenario[] = [
  {
    name: 'B and C FROM A (A neither pushed nor loaded) read the file A made in this run; no link name is left',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      // A name no engine or registry holds: only this run's result can satisfy it.
      const aName = `nxbk-e2e-links/a-${nonce}`;
      writeTree(tmp.dir, {
        'a/Dockerfile': `FROM nxbk-base\nRUN echo "${nonce}" > /made-by-a\n`,
        'b/Dockerfile': `FROM ${aName} AS base\nRUN cat /made-by-a > /seen\nFROM scratch\nCOPY --from=base /seen /seen\n`,
        // Another spelling of the same image, through COPY --from, served from C's own session (isolated).
        'c/Dockerfile': `FROM scratch\nCOPY --from=docker.io/${aName}:latest /made-by-a /copied\n`,
      });
      const a = target('a:image', path.join(tmp.dir, 'a'), [`${aName}:latest`]);
      const b = target('b:image', path.join(tmp.dir, 'b'), ['nxbk-e2e-links/b:latest'], { dependsOn: ['a:image'] }, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out-b') }] });
      // No dependsOn: the link alone makes C wait for A.
      const c = target('c:image', path.join(tmp.dir, 'c'), ['nxbk-e2e-links/c:latest'], { contextPolicy: 'isolated' }, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out-c') }] });
      await using client = await connect(ctx);
      const report = await runTargets(client, [c, b, a], { concurrency: 3, mode: 'keep-going', sharedKey: `e2e-links-${nonce}` });
      assert.deepEqual(outcomeText(report).sort(), ['a:image: succeeded', 'b:image: succeeded', 'c:image: succeeded']);
      assert.deepEqual(report.plan.targets.map((t) => t.id), ['a:image', 'c:image', 'b:image']);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-b', 'seen'), 'utf8').trim(), nonce);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-c', 'copied'), 'utf8').trim(), nonce);
      assert.deepEqual(
        report.links.map((l) => `${l.from}<-${l.to} ${l.via} ${l.mechanism}`).sort(),
        [`b:image<-a:image ${expectedVia(ctx)} ${expectedMechanism(ctx)}`, `c:image<-a:image ${expectedVia(ctx)} ${expectedMechanism(ctx)}`],
      );
      if (ctx.daemon.kind === 'docker') {
        assert.match(report.links[0]!.reference, /^nx-buildkit-link\/a-image:[0-9a-f]{16}$/);
        // Neither a load nor a push: A's configured name never reached the engine.
        assert.equal(await inspectImage(socketOf(ctx), `${aName}:latest`), undefined);
      } else {
        assert.match(report.links[0]!.reference, /^oci-layout:\/\/.*nx-buildkit-links-[^/]+\/a-image:[0-9a-f]{16}$/);
      }
      await assertLinksRemoved(ctx, report, 1);
    },
  },
  {
    name: 'A with a local output of its own: A writes it and B still reads the link (BuildKit 0.8: one exporter per solve)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      const aName = `nxbk-e2e-links/out-${nonce}`;
      // A random value made during A's solve: equal in A's output and B's only if B reads that very result (a re-run would differ).
      writeTree(tmp.dir, {
        'a/Dockerfile': `FROM nxbk-base\nRUN echo "${nonce}" && cat /proc/sys/kernel/random/uuid > /made-by-a\n`,
        'b/Dockerfile': `FROM ${aName}\nRUN cat /made-by-a > /seen\n`,
      });
      const a = target('a:image', path.join(tmp.dir, 'a'), [`${aName}:latest`], {}, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out-a') }] });
      const b = target('b:image', path.join(tmp.dir, 'b'), ['nxbk-e2e-links/b:latest'], {}, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out-b') }] });
      await using client = await connect(ctx);
      const report = await runTargets(client, [a, b], { concurrency: 2, mode: 'keep-going' });
      // BuildKit 0.8 runs only a build's first exporter: there the link is exported by a second, fully cached solve of A.
      assert.deepEqual(outcomeText(report), ['a:image: succeeded', 'b:image: succeeded']);
      const made = fs.readFileSync(path.join(tmp.dir, 'out-a', 'made-by-a'), 'utf8').trim();
      assert.match(made, /^[0-9a-f-]{36}$/, "A's own output is written");
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-b', 'seen'), 'utf8').trim(), made);
      await assertLinksRemoved(ctx, report, 1);
    },
  },
  {
    name: 'multi-platform A (never linked in the engine) pushed to a registry: B reads exactly the digest A pushed; unpushed on a classic engine, B fails naming A',
    perDaemon: true,
    async run(ctx) {
      const registry = e2eEnvironment().registry;
      if (!registry) skip('no test registry (registry of e2e/daemons/up.sh)');
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      const aName = `${registry}/nxbk-e2e-links/multi-${nonce}:latest`;
      writeTree(tmp.dir, {
        'a/Dockerfile': 'FROM scratch\nCOPY stamp.txt /stamp.txt\n',
        'a/stamp.txt': `${nonce}\n`,
        'b/Dockerfile': `FROM scratch\nCOPY --from=${aName} /stamp.txt /seen\n`,
      });
      const a = target('a:image', path.join(tmp.dir, 'a'), [aName], {}, {
        platforms: ['linux/amd64', 'linux/arm64'],
        outputs: [{ type: 'image', names: [aName], push: true, insecure: true }],
      });
      const b = target('b:image', path.join(tmp.dir, 'b'), ['nxbk-e2e-links/b:latest'], {}, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out-b') }] });
      await using client = await connect(ctx);
      if (!hasImageExporters(ctx.daemon)) {
        // The classic store cannot push an index: A without push builds, and B fails naming A and asking for push.
        const report = await runTargets(client, [{ ...a, spec: { ...a.spec, outputs: [{ type: 'cacheonly' }] } }, b], { concurrency: 2, mode: 'keep-going' });
        assert.equal(report.outcomes[0]!.status, 'succeeded');
        assert.equal(report.outcomes[1]!.status, 'failed');
        assert.match(String((report.outcomes[1] as { error: Error }).error.message), /is built by a:image in this run, but it builds for several platforms.*set "push": true on a:image/);
        return;
      }
      const engineLinks = async () => (ctx.daemon.kind === 'docker' ? Object.keys(await imagesUnder(socketOf(ctx), 'nx-buildkit-link')) : undefined);
      const linksBefore = await engineLinks();
      const report = await runTargets(client, [a, b], { concurrency: 2, mode: 'keep-going' });
      const linksAfter = await engineLinks();
      assert.deepEqual(outcomeText(report), ['a:image: succeeded', 'b:image: succeeded']);
      const digest = report.outcomes[0]!.result?.digest;
      assert.match(String(digest), /^sha256:[0-9a-f]{64}$/);
      assert.deepEqual(report.links.map((l) => `${l.via} ${l.reference}`), [`pushed ${aName.replace(/:latest$/, '')}@${digest}`]);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-b', 'seen'), 'utf8').trim(), nonce);
      // Nothing was linked for a base that pushes: the engine's link names are the same after the
      // run as before it (the cleanup's list names what it would have removed, found or not, so it
      // cannot tell); buildkitd made no layout either.
      assert.deepEqual(report.linkCleanup.failed, []);
      if (linksBefore && linksAfter) assert.deepEqual(linksAfter.filter((n) => !linksBefore.includes(n)), [], 'no new link name in the engine');
      else assert.deepEqual(report.linkCleanup, { removed: [], failed: [] });
    },
  },
  {
    name: 'a Dockerfile given as text (how links reach BuildKit 0.8) is what builds, with the context still from the shared session',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      writeTree(tmp.dir, { 'ctx/Dockerfile': 'FROM scratch\nCOPY on-disk.txt /from-file\n', 'ctx/on-disk.txt': 'file\n', 'ctx/data.txt': `${nonce}\n` });
      const dir = path.join(tmp.dir, 'ctx');
      const text = 'FROM scratch\nCOPY data.txt /from-text\n';
      const t = target('t:image', dir, [], {}, { dockerfileText: text, outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out') }] });
      await using client = await connect(ctx);
      const report = await runTargets(client, [t], { concurrency: 1, mode: 'keep-going' });
      assert.deepEqual(outcomeText(report), ['t:image: succeeded']);
      assert.deepEqual(fs.readdirSync(path.join(tmp.dir, 'out')), ['from-text']);
      assert.equal(fs.readFileSync(path.join(tmp.dir, 'out', 'from-text'), 'utf8').trim(), nonce);
      assert.ok(report.sharedSessions.some((sh) => sh.transfer.bytesSent > 0), 'the context came from the shared session');
    },
  },
  {
    name: 'A fails: B is skipped with a reason naming A, and the link name is not left behind',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      const aName = `nxbk-e2e-links/fails-${nonce}`;
      writeTree(tmp.dir, { 'a/Dockerfile': 'FROM nxbk-base\nRUN false\n', 'b/Dockerfile': `FROM ${aName}\nRUN true\n` });
      const a = target('a:image', path.join(tmp.dir, 'a'), [`${aName}:latest`]);
      const b = target('b:image', path.join(tmp.dir, 'b'), ['nxbk-e2e-links/never:latest'], { dependsOn: ['a:image'] });
      await using client = await connect(ctx);
      const report = await runTargets(client, [a, b], { concurrency: 2, mode: 'keep-going', retries: false });
      assert.equal(report.outcomes[0]!.status, 'failed');
      assert.deepEqual(report.outcomes[1], { id: 'b:image', status: 'skipped', reason: 'dependency a:image failed' });
      await assertLinksRemoved(ctx, report, 1);
    },
  },
  {
    name: 'the run is aborted while B builds on the link: the link name is removed all the same',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      const aName = `nxbk-e2e-links/abort-${nonce}`;
      writeTree(tmp.dir, { 'a/Dockerfile': `FROM nxbk-base\nRUN echo "${nonce}" > /made-by-a\n`, 'b/Dockerfile': `FROM ${aName}\nRUN sleep 60\n` });
      const a = target('a:image', path.join(tmp.dir, 'a'), [`${aName}:latest`]);
      const b = target('b:image', path.join(tmp.dir, 'b'), ['nxbk-e2e-links/b:latest'], { dependsOn: ['a:image'] });
      await using client = await connect(ctx);
      const abort = new AbortController();
      const report = await runTargets(client, [a, b], {
        concurrency: 2, mode: 'keep-going', signal: abort.signal,
        // Aborted once B's solve is under way on the daemon (its RUN step started).
        onEvent: (e) => {
          if (e.type === 'status' && e.id === 'b:image' && e.status.vertexes.some((v) => v.name.includes('sleep 60') && v.started)) abort.abort(new Error('test abort'));
        },
      });
      assert.equal(report.outcomes[0]!.status, 'succeeded');
      assert.equal(report.outcomes[1]!.status, 'cancelled');
      await assertLinksRemoved(ctx, report, 1);
    },
  },
  {
    name: 'A also loaded under its own name (buildkitd: an OCI tarball of its own): B reads the link, and A keeps its own name after the run',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const nonce = randomBytes(8).toString('hex');
      const aName = `nxbk-e2e-links-load/a-${nonce}:v1`;
      writeTree(tmp.dir, { 'a/Dockerfile': `FROM nxbk-base\nRUN echo "${nonce}" > /made-by-a\n`, 'b/Dockerfile': `FROM ${aName}\nRUN cat /made-by-a > /seen\n` });
      // buildkitd has no image store to load into: A's own output is an OCI tarball beside the run's link layout.
      const tarball = path.join(tmp.dir, 'a.oci.tar');
      const own = ctx.daemon.kind === 'docker' ? { type: 'load' as const, names: [aName] } : { type: 'oci' as const, dest: tarball, names: [aName] };
      const a = target('a:image', path.join(tmp.dir, 'a'), [aName], {}, { outputs: [own] });
      const b = target('b:image', path.join(tmp.dir, 'b'), ['nxbk-e2e-links-load/b:latest'], { dependsOn: ['a:image'] }, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out-b') }] });
      await using client = await connect(ctx);
      try {
        const report = await runTargets(client, [a, b], { concurrency: 2, mode: 'keep-going' });
        assert.deepEqual(outcomeText(report), ['a:image: succeeded', 'b:image: succeeded']);
        assert.equal(fs.readFileSync(path.join(tmp.dir, 'out-b', 'seen'), 'utf8').trim(), nonce);
        // The link name never shows up as one of A's image names (metadata is written from these).
        assert.deepEqual(report.outcomes[0]!.result?.imageNames.filter((n) => n.includes('nx-buildkit-link')), []);
        if (ctx.daemon.kind === 'docker') {
          assert.ok(await inspectImage(socketOf(ctx), aName), `${aName} is still loaded`);
        } else {
          const index = spawnSync('tar', ['-xOf', tarball, 'index.json'], { encoding: 'utf8' });
          assert.equal(index.status, 0, index.stderr);
          assert.ok(index.stdout.includes(aName) && !index.stdout.includes('nx-buildkit-link'), `A's tarball names A only: ${index.stdout}`);
        }
        await assertLinksRemoved(ctx, report, 1);
      } finally {
        if (ctx.daemon.kind === 'docker') await removeImagesUnder(socketOf(ctx), 'nxbk-e2e-links-load');
      }
    },
  },
];
