import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { e2eEnvironment, nxBuilders, type E2eDaemon } from './support/daemons';
import { deleteManifest, imagesUnder, inspectImage, manifestHead, registryDigest, registryTags, removeImagesUnder, engineRequest } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import { ranAndCached, repoRoot, type NxRun, type NxRuntime, type NxWorkspace } from './support/nx-workspace';

// The nx-buildkit:image executor as Nx runs it: the real Nx CLI (under Node,
// then under Bun, each forking its batch worker with its own runtime) on a
// git fixture workspace, building against the first Docker engine (images
// loaded into it) and against buildkitd (no image store: images pushed to
// the test registry instead), and for the cache of pushed images the engine
// with the containerd image store and buildkitd, with the test registry.
// Each runtime gets its own workspace (its own Nx cache) and image names
// unique to this test run, removed afterwards.

const timeout = 120_000;
const env = e2eEnvironment();
// buildkitd builds the images of the batch suite into the test registry: without one it cannot run it.
// And the oldest Docker engine (BuildKit 0.8 on Docker 20.10: the context prefetched, no config digest in the exporter's answer).
const oldestEngine = env.daemons.filter((d) => d.kind === 'docker').at(-1);
const batchBuilders = [...new Set([...nxBuilders(), ...(oldestEngine ? [oldestEngine] : [])])].filter((d) => d.kind === 'docker' || env.registry);
const pushers = [env.daemons.find((d) => d.kind === 'docker' && d.imageStore === 'containerd'), env.daemons.find((d) => d.kind === 'buildkitd')].filter((d): d is E2eDaemon => d !== undefined);
const runId = randomBytes(4).toString('hex');
const socketOf = (d: E2eDaemon) => d.address.replace(/^docker:\/\//, '');

/** What one Nx run did, read from its output. */
interface RunOutcome {
  status: number | null;
  out: string;
  /** Projects whose image task the executor ran. */
  ran: string[];
  /** Projects whose image task Nx replayed from its cache. */
  cached: string[];
  /** The executor's per-run summary lines. */
  summaries: Array<{ images: number; binding: string; sessions: number; transfers: number; bytes: number }>;
}

function outcome(r: NxRun): RunOutcome {
  const out = r.stdout + r.stderr;
  const { ran, cached } = ranAndCached(out);
  const summaries = [...out.matchAll(/nx-buildkit: (\d+) image\(s\) in one run, binding (\S+), (\d+) shared session\(s\), (\d+) context transfer\(s\), (\d+) bytes sent/g)].map((m) => ({
    images: Number(m[1]),
    binding: m[2]!,
    sessions: Number(m[3]),
    transfers: Number(m[4]),
    bytes: Number(m[5]),
  }));
  return { status: r.status, out, ran, cached, summaries };
}

interface Metadata {
  digest?: string;
  configDigest?: string;
  imageNames: string[];
  pushed: boolean;
}

const readMetadata = (ws: NxWorkspace, root: string): Metadata => JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/images', root, 'metadata.json'), 'utf8')) as Metadata;

/** What the inferred target's runtime input prints for a metadata file (the value Nx hashes). */
function registryCheck(ws: NxWorkspace, root: string): string {
  const r = spawnSync('node', [path.join(repoRoot, 'dist/check-image.cjs'), `dist/images/${root}/metadata.json`], { cwd: ws.dir, encoding: 'utf8' });
  return r.stdout.trim();
}

const roots = { base: 'base', 'app-a': 'apps/app-a', 'app-b': 'apps/app-b', 'lib-x': 'libs/lib-x' } as const;
type Project = keyof typeof roots;
const projects = Object.keys(roots).sort() as Project[];

if (batchBuilders.length === 0) test.skip('nx-buildkit:image in batch mode (skipped: no Docker engine, and no buildkitd with the test registry)', () => {});
for (const runtime of ['node', 'bun'] as const satisfies readonly NxRuntime[]) {
  for (const docker of batchBuilders) describe(`nx-buildkit:image in batch mode, Nx CLI under ${runtime} (${docker.name})`, () => {
    // A Docker engine loads the images; buildkitd pushes them to the test registry (under the same prefix there).
    const loads = docker.kind === 'docker';
    const registry = loads ? '' : env.registry!;
    const prefix = `${loads ? '' : `${registry}/`}nxbk-e2e-nx-${runId}-${runtime}-${docker.name}`;
    const sock = loads ? socketOf(docker) : '';
    /** The images under the prefix, as `name:tag → id` (engine: image ID; registry: manifest digest). */
    const images = async (): Promise<Record<string, string>> => {
      if (loads) return imagesUnder(sock, prefix);
      const out: Record<string, string> = {};
      const repoPrefix = prefix.slice(registry.length + 1);
      for (const project of projects) {
        for (const tag of await registryTags(registry, `${repoPrefix}/${project}`)) out[`${prefix}/${project}:${tag}`] = (await registryDigest(registry, `${repoPrefix}/${project}`, tag)) ?? '';
      }
      return out;
    };
    /** What a built image is known by where it went: the engine's image ID, or the digest the registry serves for the name. */
    const stored = async (name: string): Promise<string | undefined> => {
      if (loads) return inspectImage(sock, name);
      const rest = name.slice(registry.length + 1);
      const colon = rest.lastIndexOf(':');
      return registryDigest(registry, rest.slice(0, colon), rest.slice(colon + 1));
    };
    /** The metadata's value for that: the config digest of a loaded image (classic store), the manifest digest of a pushed one. */
    const expected = (metadata: Metadata) => (loads ? metadata.configDigest! : metadata.digest!);
    const output = loads ? { load: true } : { push: true, insecureRegistry: true };
    // Random bytes (hex): a shared context whose size says whether it was sent once or once per image.
    const shared = { 'shared/one.txt': randomBytes(16 * 1024).toString('hex'), 'shared/two.txt': randomBytes(8 * 1024).toString('hex') };
    const sharedSize = Object.values(shared).reduce((n, text) => n + Buffer.byteLength(text), 0);
    let ws: NxWorkspace;
    const nx = (...args: string[]) => outcome(ws.nx(runtime, [...args, '--output-style=static']));

    beforeAll(() => {
      const image = (name: string, options: Record<string, unknown> = {}) => ({ targets: { image: { options: { imageName: `${prefix}/${name}`, ...options } } } });
      // The secret lib-x's build reads: the workspace's Nx runs see the environment of its creation.
      ws = createFixtureWorkspace(
        {
          'base/project.json': JSON.stringify({ name: 'base', ...image('base', { tags: ['latest', '{{sha}}'] }) }),
          'base/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\n',
          'base/hello.txt': 'hello\n',
          // app-a and app-b: FROM base's image (linked in the run; `load` also puts it into the engine, buildkitd pushes it), both with the shared context.
          'apps/app-a/project.json': JSON.stringify({ name: 'app-a', ...image('app-a', { context: 'shared' }) }),
          'apps/app-a/Dockerfile': `FROM ${prefix}/base\nCOPY . /ctx\nRUN cat /hello.txt\n`,
          'apps/app-b/project.json': JSON.stringify({ name: 'app-b', ...image('app-b', { context: 'shared' }) }),
          'apps/app-b/Dockerfile': `FROM ${prefix}/base:latest\nCOPY . /ctx/\n`,
          ...shared,
          'libs/lib-x/project.json': JSON.stringify({ name: 'lib-x', ...image('lib-x', { secrets: [{ id: 'token', env: 'NXBK_E2E_TOKEN' }] }) }),
          'libs/lib-x/Dockerfile': 'FROM nxbk-base:latest\nRUN --mount=type=secret,id=token test -s /run/secrets/token\n',
        },
        { options: { builder: docker.address, network: 'none', ...output, progress: 'plain' } },
        { NXBK_E2E_TOKEN: 'e2e-token' },
      );
    });

    afterAll(async () => {
      if (sock) await removeImagesUnder(sock, prefix);
      if (!loads) {
        for (const [name, digest] of Object.entries(await images().catch(() => ({})))) {
          const rest = name.slice(registry.length + 1);
          await deleteManifest(registry, rest.slice(0, rest.lastIndexOf(':')), digest).catch(() => undefined);
        }
      }
      ws?.[Symbol.dispose]();
    });

    test('run-many builds all four images in one executor process; the shared context is sent once', async () => {
      const r = nx('run-many', '-t', 'image');
      expect(r.status, r.out).toBe(0);
      expect(r.ran).toEqual(projects);
      expect(r.cached).toEqual([]);
      // One batch executor process for the whole run: exactly one summary line, covering the four images.
      expect(r.summaries, r.out).toHaveLength(1);
      const summary = r.summaries[0]!;
      expect(summary.images).toBe(4);
      // app-a and app-b both COPY the whole shared directory: once per run is its size (plus a few small
      // files of the other contexts), once per image would be at least twice that.
      expect(summary.bytes).toBeGreaterThanOrEqual(sharedSize);
      expect(summary.bytes).toBeLessThan(sharedSize + 4096);
      expect(summary.transfers).toBeGreaterThanOrEqual(summary.sessions);

      const shortSha = ws.git('rev-parse', '--short=7', 'HEAD').trim();
      for (const project of projects) {
        const metadata = readMetadata(ws, roots[project]);
        expect(metadata.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(metadata.pushed).toBe(!loads);
        // Loaded into a classic-store engine: the image ID is the config digest, under every name in the metadata.
        // Pushed (buildkitd): the registry serves the metadata's digest under every name.
        for (const name of metadata.imageNames) expect(await stored(name)).toBe(expected(metadata));
      }
      expect(readMetadata(ws, 'base').imageNames).toEqual([`${prefix}/base:latest`, `${prefix}/base:${shortSha}`]);
      expect(Object.keys(await images()).sort()).toEqual(
        [`${prefix}/app-a:latest`, `${prefix}/app-b:latest`, `${prefix}/base:${shortSha}`, `${prefix}/base:latest`, `${prefix}/lib-x:latest`].sort(),
      );
    }, timeout);

    test('affected after a committed change to base builds base and the images FROM it, not lib-x', async () => {
      const before = readMetadata(ws, 'apps/app-a');
      fs.appendFileSync(path.join(ws.dir, 'base/hello.txt'), 'changed\n');
      ws.git('commit', '-qam', 'change base');
      const r = nx('affected', '-t', 'image', '--base=HEAD~1');
      expect(r.status, r.out).toBe(0);
      expect(r.ran).toEqual(['app-a', 'app-b', 'base']);
      expect(r.cached).toEqual([]);
      expect(r.out).not.toContain('lib-x');
      expect(r.summaries.map((s) => s.images)).toEqual([3]);
      const shortSha = ws.git('rev-parse', '--short=7', 'HEAD').trim();
      expect(readMetadata(ws, 'base').imageNames).toContain(`${prefix}/base:${shortSha}`);
      // app-a was rebuilt on the new base: a new image.
      expect(readMetadata(ws, 'apps/app-a').digest).not.toBe(before.digest);
      expect(await stored(`${prefix}/app-a:latest`)).toBe(expected(readMetadata(ws, 'apps/app-a')));
    }, timeout);

    test('after the commit, run-many builds only lib-x, whose labels named the commit before; a second run-many with no change replays every image task from the Nx cache', () => {
      // lib-x reads nothing the commit changed, but its image (OCI labels) names the commit: not a hit from the one before.
      const first = nx('run-many', '-t', 'image');
      expect(first.status, first.out).toBe(0);
      expect(first.ran).toEqual(['lib-x']);
      expect(first.cached).toEqual(projects.filter((p) => p !== 'lib-x'));
      const r = nx('run-many', '-t', 'image');
      expect(r.status, r.out).toBe(0);
      expect(r.cached).toEqual(projects);
      expect(r.ran).toEqual([]);
      expect(r.summaries).toEqual([]);
    }, timeout);

    // One invalid project per run (none of them a dependency of another): it fails alone with its problems,
    // the other three build in the same run (--skip-nx-cache), and Nx lists only it as failed.
    const invalid: Array<[string, Project, Record<string, unknown>, string]> = [
      ['unknown field', 'lib-x', { pussh: true }, 'lib-x:image: unknown option "pussh"'],
      ['wrong type', 'app-b', { load: 'yes' }, 'app-b:image: option "load": Invalid input: expected boolean, received string'],
      ['secret without source', 'lib-x', { secrets: [{ id: 'token' }] }, 'lib-x:image: option "secrets.0": needs exactly one source: "file" or "env"'],
      ['bad tag', 'app-a', { tags: ['Bad Tag!'] }, 'app-a:image: option "tags.0": is not a valid tag or tag template'],
    ];
    for (const [what, project, bad, message] of invalid) {
      test(`invalid options (${what}) fail only their task, naming project, target and field; the others build`, async () => {
        const mtimes = () => projects.map((p) => fs.statSync(path.join(ws.dir, 'dist/images', roots[p], 'metadata.json')).mtimeMs);
        const metadataBefore = mtimes();
        const imagesBefore = await images();
        const file = path.join(ws.dir, roots[project], 'project.json');
        const original = fs.readFileSync(file, 'utf8');
        const config = JSON.parse(original) as { targets: { image: { options: Record<string, unknown> } } };
        Object.assign(config.targets.image.options, bad);
        fs.writeFileSync(file, JSON.stringify(config));
        let r: RunOutcome;
        try {
          r = nx('run-many', '-t', 'image', '--skip-nx-cache');
        } finally {
          fs.writeFileSync(file, original);
        }
        expect(r.status).not.toBe(0);
        expect(r.out).toContain(`invalid options, not built:\n${message}`);
        expect(r.out).toContain(`Failed tasks:\n\n- ${project}:image\n\n`);
        expect(r.out).not.toMatch(/flaky/i);
        // The valid three built in one run; the invalid one's metadata and image are untouched.
        expect(r.summaries.map((s) => s.images)).toEqual([3]);
        for (const other of projects.filter((p) => p !== project)) expect(r.out).toContain(`[${other}] built `);
        expect(r.out).not.toContain(`[${project}] built `);
        const after = mtimes();
        projects.forEach((p, i) => (p === project ? expect(after[i]).toBe(metadataBefore[i]!) : expect(after[i]!).toBeGreaterThan(metadataBefore[i]!)));
        // (The others' images may be rebuilt with new IDs: lib-x's secret step is never served from another build's cache.)
        const own = (images: Record<string, string>) => Object.entries(images).filter(([name]) => name.startsWith(`${prefix}/${project}:`));
        expect(own(await images())).toEqual(own(imagesBefore));
      }, timeout);
    }

    test('--print prints the plan and contacts no daemon', () => {
      const file = path.join(ws.dir, 'apps/app-b/project.json');
      const original = fs.readFileSync(file, 'utf8');
      const config = JSON.parse(original) as { targets: { image: { options: Record<string, unknown> } } };
      config.targets.image.options.ssh = [{ id: 'default' }];
      fs.writeFileSync(file, JSON.stringify(config));
      let r: RunOutcome;
      try {
        // Nothing listens on port 9 here: any connection attempt would fail the run ("cannot reach a builder").
        r = nx('run-many', '-t', 'image', '--print', '--builder=tcp://127.0.0.1:9', '--skip-nx-cache');
      } finally {
        fs.writeFileSync(file, original);
      }
      expect(r.status, r.out).toBe(0);
      expect(r.out).not.toContain('cannot reach a builder');
      // The plan never depends on the builder; its capabilities are only said to be unknown.
      expect(r.out).toContain('builder tcp://127.0.0.1:9: capabilities not known, it did not answer');
      expect(r.summaries).toEqual([]);
      const plan = r.out.slice(r.out.indexOf('shared directories (each sent once'));
      const targets = [...plan.slice(plan.indexOf('targets, in build order:')).matchAll(/^ {2}([\w-]+:image)(?: \(after ([^)]*)\))?$/gm)].slice(0, 4);
      const order = targets.map((m) => m[1]!);
      expect([...order].sort()).toEqual(projects.map((p) => `${p}:image`));
      expect(order.indexOf('base:image')).toBeLessThan(order.indexOf('app-a:image'));
      expect(order.indexOf('base:image')).toBeLessThan(order.indexOf('app-b:image'));
      expect(targets.find((m) => m[1] === 'app-a:image')![2]).toBe('base:image');
      // One shared directory serves both apps' context; each other context is served for its own image.
      expect(plan).toMatch(new RegExp(`^ {2}ctx-[0-9a-f]+ {2}${escape(path.join(ws.dir, 'shared'))} {2}used by (app-a:image, app-b:image|app-b:image, app-a:image)$`, 'm'));
      expect(plan).toMatch(new RegExp(`^ {2}ctx-[0-9a-f]+ {2}${escape(path.join(ws.dir, 'base'))} {2}used by base:image$`, 'm'));
      // Secrets and SSH belong to each target's own session.
      const ownSession = (target: string) => new RegExp(`^ {2}${target}\\b[^\\n]*\\n[^\\n]*\\n {4}own session: ([^\\n]*)$`, 'm').exec(plan)?.[1];
      expect(ownSession('lib-x:image')).toMatch(/^secrets \[token\] {2}ssh \[\] /);
      expect(ownSession('app-b:image')).toMatch(/^secrets \[\] {2}ssh \[default\] /);
      expect(ownSession('app-a:image')).toMatch(/^secrets \[\] {2}ssh \[\] /);
      // Every image of the workspace uses the same Docker config: nothing is kept apart for registry credentials.
      expect(plan).toContain('registry credentials: every target may build alongside every other');
    }, timeout);
  });

  // Nx replays a cached image task by restoring its metadata file; for a pushed image the inferred target's
  // runtime input asks the registry whether the digest in that file still exists, so a deleted image is rebuilt.
  if (pushers.length === 0 || !env.registry) test.skip(`Nx cache of a pushed image, Nx CLI under ${runtime} (skipped: needs the containerd-store engine or buildkitd, and the registry of e2e/daemons/up.sh)`, () => {});
  for (const containerd of env.registry ? pushers : []) describe(`Nx cache of a pushed image, Nx CLI under ${runtime} (${containerd.name}, ${env.registry})`, () => {
    const registry = env.registry!;
    const repository = `nxbk-e2e-nx-${runId}-${runtime}-${containerd.name}/pushed`;
    let ws: NxWorkspace;
    let digest: string;
    const nx = (...args: string[]) => outcome(ws.nx(runtime, [...args, '--output-style=static']));

    beforeAll(() => {
      ws = createFixtureWorkspace(
        {
          'pushed/project.json': JSON.stringify({ name: 'pushed', targets: { image: { options: { imageName: `${registry}/${repository}`, push: true, insecureRegistry: true } } } }),
          'pushed/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\nRUN cat /hello.txt > /copy.txt\n',
          'pushed/hello.txt': 'hello\n',
        },
        { options: { builder: containerd.address, network: 'none', progress: 'plain' } },
      );
    });

    afterAll(async () => {
      if (digest) await deleteManifest(registry, repository, digest).catch(() => undefined);
      if (containerd.kind === 'docker') await engineRequest(socketOf(containerd), 'DELETE', `/images/${encodeURIComponent(`${registry}/${repository}:latest`)}?force=1`).catch(() => undefined);
      ws?.[Symbol.dispose]();
    });

    test('run 1 builds and pushes; the metadata names the pushed digest', async () => {
      expect(registryCheck(ws, 'pushed')).toBe('ok'); // no metadata yet
      const r = nx('run-many', '-t', 'image');
      expect(r.status, r.out).toBe(0);
      expect(r.ran).toEqual(['pushed']);
      const metadata = readMetadata(ws, 'pushed');
      expect(metadata.pushed).toBe(true);
      expect(metadata.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      digest = metadata.digest!;
      expect(await manifestHead(registry, repository, digest)).toBe(200);
      expect(registryCheck(ws, 'pushed')).toBe('ok');
    }, timeout);

    test('run 2: a cache hit', () => {
      const r = nx('run-many', '-t', 'image');
      expect(r.status, r.out).toBe(0);
      expect(r.cached).toEqual(['pushed']);
      expect(r.summaries).toEqual([]);
    }, timeout);

    test('run 3, after the manifest was deleted from the registry: built and pushed again, same digest', async () => {
      expect(await deleteManifest(registry, repository, digest)).toBe(202);
      expect(await manifestHead(registry, repository, digest)).toBe(404);
      expect(registryCheck(ws, 'pushed')).toBe(`missing ${registry}/${repository}@${digest}`);
      // No input Nx knows of changed: only the registry did.
      expect(ws.git('status', '--porcelain')).toBe('');
      const r = nx('run-many', '-t', 'image');
      expect(r.status, r.out).toBe(0);
      expect(r.ran).toEqual(['pushed']);
      expect(r.summaries.map((s) => s.images)).toEqual([1]);
      // Reproducible (SOURCE_DATE_EPOCH from the commit): the rebuilt image is the one the cache knows.
      expect(readMetadata(ws, 'pushed').digest).toBe(digest);
      expect(await manifestHead(registry, repository, digest)).toBe(200);
    }, timeout);

    test('run 4: a cache hit again, and the digest in the metadata is served by the registry', async () => {
      const r = nx('run-many', '-t', 'image');
      expect(r.status, r.out).toBe(0);
      expect(r.cached).toEqual(['pushed']);
      expect(r.summaries).toEqual([]);
      expect(readMetadata(ws, 'pushed').digest).toBe(digest);
      expect(await manifestHead(registry, repository, digest)).toBe(200);
      expect(registryCheck(ws, 'pushed')).toBe('ok');
    }, timeout);
  });
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
