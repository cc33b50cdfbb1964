import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { e2eEnvironment, loadEngineBeside, type E2eDaemon } from './support/daemons';
import { inspectImage, registryRequest, removeImagesUnder } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

// Where images go, per builder, through the real Nx CLI (under Node): a
// push from every builder (classic-store engines push through the engine),
// the default of a target with no push, load or outputs (loaded on an
// engine; cache only, with one warning per target, on a buildkitd), and
// `load` on a buildkitd into the Docker engine at DOCKER_HOST.

const timeout = 180_000;
const env = e2eEnvironment();
const runId = randomBytes(4).toString('hex');
const socketOf = (d: E2eDaemon) => d.address.replace(/^docker:\/\//, '');
const engineBeside = loadEngineBeside();

interface Metadata {
  digest?: string;
  configDigest?: string;
  imageNames: string[];
  pushed: boolean;
  cacheOnly?: boolean;
  loaded?: boolean;
  loadedInto?: { socketPath?: string };
}

/** The manifest digest the registry serves for `repository:tag`. */
async function servedDigest(registry: string, repository: string, tag: string): Promise<string | undefined> {
  const accept = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
  const answer = await registryRequest(registry, 'GET', `/v2/${repository}/manifests/${tag}`, { accept });
  if (answer.status !== 200) return undefined;
  const { createHash } = await import('node:crypto');
  return `sha256:${createHash('sha256').update(answer.body).digest('hex')}`;
}

for (const daemon of env.daemons) {
  const registry = env.registry;
  const why = !registry ? 'skipped: needs the registry of e2e/daemons/up.sh' : '';
  describe.skipIf(!registry)(`outputs on ${daemon.name}${why ? ` (${why})` : ''}`, () => {
    const prefix = `nxbk-e2e-outputs-${runId}-${daemon.name}`;
    const isEngine = daemon.kind === 'docker';
    // A buildkitd has no image store: its base comes from the registry.
    const base = isEngine ? 'nxbk-base:latest' : `${registry}/nxbk-base:latest`;
    const loadInto = isEngine ? daemon : engineBeside;
    let ws: NxWorkspace;
    let out = '';
    let status: number | null = null;
    /** Every name a project's image gets. */
    const namesOf = (name: string) => (name === 'plain-b' ? `${prefix}/plain-b:p-v1, ${prefix}/plain-b:latest` : `${prefix}/${name}:latest`);
    const metadata = (project: string): Metadata => JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/images', project, 'metadata.json'), 'utf8')) as Metadata;

    beforeAll(() => {
      const project = (name: string, options: Record<string, unknown>) => ({
        [`${name}/project.json`]: JSON.stringify({ name, targets: { image: { options } } }),
        [`${name}/Dockerfile`]: `FROM ${base}\nRUN echo ${name}-${runId} > /stamp\n`,
      });
      ws = createFixtureWorkspace(
        {
          ...project('plain-a', { imageName: `${prefix}/plain-a` }),
          // docker/metadata-action's flavor: a prefix on every tag but latest, and latest added.
          ...project('plain-b', { imageName: `${prefix}/plain-b`, tags: ['v1'], tagFlavor: { prefix: 'p-', latest: 'true' } }),
          ...project('pushed', { imageName: `${registry}/${prefix}/pushed`, push: true, insecureRegistry: true }),
          ...(loadInto ? project('loaded', { imageName: `${prefix}/loaded`, load: true }) : {}),
        },
        { options: { builder: daemon.address, network: 'none', progress: 'plain' } },
        // With a buildkitd, `load` goes into the engine DOCKER_HOST names (as buildx's docker-container driver does).
        loadInto ? { DOCKER_HOST: `unix://${socketOf(loadInto)}` } : {},
      );
      const r = ws.nx('node', ['run-many', '-t', 'image', '--output-style=static']);
      out = r.stdout + r.stderr;
      status = r.status;
    }, timeout);

    afterAll(async () => {
      if (loadInto) await removeImagesUnder(socketOf(loadInto), prefix);
      ws?.[Symbol.dispose]();
    });

    test('every target builds', () => {
      expect(status, out).toBe(0);
    });

    test('push: the registry serves the digest the metadata reports', async () => {
      const pushed = metadata('pushed');
      expect(pushed.pushed).toBe(true);
      expect(pushed.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
      expect(await servedDigest(registry!, `${prefix}/pushed`, 'latest')).toBe(pushed.digest);
      expect(out).toContain(`built ${registry}/${prefix}/pushed:latest (${pushed.digest})`);
    });

    test('--print shows the resolved tags and outputs of each target', () => {
      const r = ws.nx('node', ['run-many', '-t', 'image', '--print', '--skip-nx-cache', '--output-style=static']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).toContain(`    tags: ${registry}/${prefix}/pushed:latest\n`);
      expect(r.stdout).toContain(`    outputs: push ${registry}/${prefix}/pushed:latest\n`);
      expect(r.stdout).toContain(`    tags: ${prefix}/plain-a:latest\n`);
      expect(r.stdout).toContain(`    tags: ${prefix}/plain-b:p-v1, ${prefix}/plain-b:latest\n`);
      // The builder answers: its capabilities, probed on it, follow the plan.
      // The run before this one probed the builder: its answers are remembered.
      expect(r.stdout).toMatch(/^ {2}binding: (local-sessionid|frontend-inputs|prefetch) \(remembered from an earlier run\)$/m);
      expect(r.stdout).toMatch(/^ {2}named contexts: (yes|no) \((remembered from an earlier run|probed)\)$/m);
      expect(r.stdout).toContain(isEngine ? '  session transports: grpc, docker\n' : '  session transports: grpc\n');
      expect(r.stdout).toMatch(isEngine ? /^ {2}image store: (classic|containerd)$/m : /^ {2}cache exporters: inline, registry, local, gha, s3, azblob$/m);
    }, timeout);

    if (isEngine) {
      test('no outputs on a Docker engine: the image is loaded into it, and the built line names its digest', async () => {
        for (const name of ['plain-a', 'plain-b']) {
          const m = metadata(name);
          expect(m.cacheOnly).toBeUndefined();
          expect(await inspectImage(socketOf(daemon), `${prefix}/${name}:latest`)).toBeDefined();
          if (name === 'plain-b') expect(await inspectImage(socketOf(daemon), `${prefix}/plain-b:p-v1`)).toBeDefined();
          expect(out).toContain(`built ${namesOf(name)} (${m.digest})`);
        }
        expect(out).not.toContain('no output specified');
      });
    } else {
      test('no outputs on a buildkitd: one warning per target, "cache only" in the built line and the metadata', () => {
        for (const name of ['plain-a', 'plain-b']) {
          expect(metadata(name).cacheOnly).toBe(true);
          expect(out).toContain(`built ${namesOf(name)} (cache only)`);
        }
        // Nx shows the executor's live lines and, as each task ends, that task's log: the warning is
        // in each once, for the targets without outputs only (two lines each, none for the others).
        const warned = [...out.matchAll(/^\[([\w-]+)\] warning: no output specified: the result stays in the build cache/gm)].map((m) => m[1]).sort();
        expect(warned, out).toEqual(['plain-a', 'plain-a', 'plain-b', 'plain-b']);
      });

      test.skipIf(!engineBeside)(`load on a buildkitd: the image is in the Docker engine at DOCKER_HOST afterwards (${engineBeside?.name ?? 'skipped: no Docker engine of e2e/daemons/up.sh'})`, async () => {
        const m = metadata('loaded');
        expect(m.cacheOnly).toBeUndefined();
        const id = await inspectImage(socketOf(engineBeside!), `${prefix}/loaded:latest`);
        expect(id).toMatch(/^sha256:[0-9a-f]{64}$/);
        // The classic store names an image by its config digest.
        if (engineBeside!.imageStore !== 'containerd') expect(id).toBe(m.configDigest);
        // The Nx cache check asks that engine whether it still holds the image.
        expect(m.loaded).toBe(true);
        expect(m.loadedInto).toEqual({ socketPath: socketOf(engineBeside!) });
      });

      test('load on a buildkitd with no Docker engine at DOCKER_HOST: a clear error before the build, and Nx exits 1 (not 130)', () => {
        using nowhere = createFixtureWorkspace(
          {
            'orphan/project.json': JSON.stringify({ name: 'orphan', targets: { image: { options: { imageName: `${prefix}/orphan`, load: true } } } }),
            'orphan/Dockerfile': `FROM ${base}\nRUN echo orphan > /stamp\n`,
          },
          { options: { builder: daemon.address, network: 'none', progress: 'plain' } },
          { DOCKER_HOST: `unix://${path.join(ws.dir, 'no-engine.sock')}` },
        );
        const r = nowhere.nx('node', ['run-many', '-t', 'image', '--output-style=static']);
        const text = r.stdout + r.stderr;
        expect(r.status, text).toBe(1);
        expect(text).toContain(`orphan:image: load needs a Docker engine to load the image into, and none answers at DOCKER_HOST (unix://${path.join(ws.dir, 'no-engine.sock')})`);
        expect(text).not.toContain('RUN echo orphan');
      }, timeout);
    }
  });
}
