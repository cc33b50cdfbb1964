import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { daemonsHome, e2eEnvironment, loadEngineBeside, type E2eDaemon } from './support/daemons';
import { engineRequest, inspectImage, removeImagesUnder } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import { ranAndCached, repoRoot, type NxRun, type NxRuntime, type NxWorkspace } from './support/nx-workspace';
import type { TreeSpec } from './support/files';

// The Nx cache never replays a stale image. A table: after a run that leaves
// every task cached, each row changes one thing (a file in a context outside
// the project root set in project.json, in targetDefaults or by a
// configuration; a file the context's .dockerignore keeps out; a Dockerfile
// outside the project root; a local: named context; an image removed from the
// engine; the builder address; a deleted tar output; a commit), runs
// `nx run-many -t image` through the real Nx CLI and asserts from Nx's own
// output which tasks ran and which were replayed, and from the images (their
// tar outputs, or the engine) that what was built or restored holds what the
// workspace holds now. Then the guard: inputs written by hand that miss the
// context, and a context given on the command line, fail naming project,
// target, option and directory, and are never cached. Last, the example
// workspace: a change in libs/ui rebuilds web and admin, nothing else.
//
// libx also uses `load`: on a Docker engine into that engine, on a standalone
// buildkitd (no image store of its own) into the Docker engine at DOCKER_HOST,
// as buildx's docker-container driver does; the `docker rmi` row removes it
// from the engine it went to.

const timeout = 240_000;
const env = e2eEnvironment();
const runId = randomBytes(4).toString('hex');
const docker = env.daemons.find((d) => d.kind === 'docker' && d.imageStore !== 'containerd') ?? env.daemons.find((d) => d.kind === 'docker');
const buildkitd = env.daemons.find((d) => d.kind === 'buildkitd');
const socketOf = (d: E2eDaemon) => d.address.replace(/^(docker|unix):\/\//, '');

interface Outcome {
  status: number | null;
  out: string;
  ran: string[];
  cached: string[];
}

function outcome(r: NxRun): Outcome {
  const out = r.stdout + r.stderr;
  const { ran, cached } = ranAndCached(out);
  return { status: r.status, out, ran, cached };
}

/** One file of a tar output (the image's root filesystem), or undefined when the tar lacks it. */
function fromTar(tarFile: string, name: string): string | undefined {
  if (!fs.existsSync(tarFile)) return undefined;
  const list = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n');
  const entry = list.find((e) => e === name || e === `./${name}`);
  if (!entry) return undefined;
  return spawnSync('tar', ['-xOf', tarFile, entry], { encoding: 'utf8' }).stdout;
}

/** The projects of the table; `hand` (hand-written inputs) is left out of the table's runs and tried alone. */
const built = ['cfg', 'dfout', 'dot', 'libx', 'named', 'steady', 'tdx'] as const;

function tableWorkspace(builder: string, prefix: string, load: boolean): TreeSpec {
  const project = (name: string, options: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
    JSON.stringify({ name, targets: { image: { options: { imageName: `${prefix}/${name}`, outputs: [{ type: 'tar', dest: `dist/out/${name}.tar` }], ...options }, ...extra } } });
  return {
    // Context set by targetDefaults for every image target that does not set its own (tdx).
    'nx.json': JSON.stringify({
      analytics: false,
      plugins: [{ plugin: 'nx-buildkit', options: { options: { builder, network: 'none', progress: 'plain' } } }],
      targetDefaults: { image: { options: { context: 'libs/td' } } },
    }),
    '.dockerignore': 'node_modules\ndist\n.nx\n.git\n**/*.draft\n',
    'libs/x/a.txt': 'x1\n',
    'libs/x/.dockerignore': '*.draft\n',
    'libs/td/a.txt': 'td1\n',
    'libs/cfg/a.txt': 'cfg1\n',
    'libs/named/a.txt': 'named1\n',
    'libs/hand/a.txt': 'hand1\n',
    'docker/dfout.Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
    // Context "." in project.json: the whole workspace, less the root .dockerignore.
    'apps/dot/Dockerfile': 'FROM scratch\nCOPY libs/ /libs/\n',
    'apps/dot/project.json': project('dot', { context: '.' }),
    'apps/libx/Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
    'apps/libx/project.json': project('libx', { context: 'libs/x', dockerfile: 'apps/libx/Dockerfile', load }),
    'apps/tdx/Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
    'apps/tdx/project.json': project('tdx', { dockerfile: 'apps/tdx/Dockerfile' }),
    // Context from a configuration that runs by default.
    'apps/cfg/Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
    'apps/cfg/project.json': project('cfg', { context: 'apps/cfg', dockerfile: 'apps/cfg/Dockerfile' }, { configurations: { alt: { context: 'libs/cfg' } }, defaultConfiguration: 'alt' }),
    // A Dockerfile outside the project root.
    'apps/dfout/Dockerfile': 'FROM scratch\n# not used: project.json names docker/dfout.Dockerfile\n',
    'apps/dfout/project.json': project('dfout', { context: 'apps/dfout', dockerfile: 'docker/dfout.Dockerfile' }),
    'apps/dfout/own.txt': 'own\n',
    'apps/named/Dockerfile': 'FROM scratch\nCOPY --from=extra . /extra/\n',
    'apps/named/project.json': project('named', { context: 'apps/named', namedContexts: { extra: 'local:libs/named' } }),
    // Nothing of the checkout in the image: no generated labels, a fixed SOURCE_DATE_EPOCH, plain tags.
    'libs/steady/a.txt': 'steady1\n',
    'apps/steady/Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
    'apps/steady/project.json': project('steady', { context: 'libs/steady', dockerfile: 'apps/steady/Dockerfile', ociLabels: false, buildArgs: { SOURCE_DATE_EPOCH: '0' } }),
    // Inputs written by hand that miss the context.
    'apps/hand/Dockerfile': 'FROM scratch\nCOPY . /ctx/\n',
    'apps/hand/project.json': project('hand', { context: 'libs/hand', dockerfile: 'apps/hand/Dockerfile' }, { inputs: ['{projectRoot}/**/*'] }),
  };
}

interface Row {
  name: string;
  /** Rows about the loaded image (they need an engine to load into). */
  needsLoad?: boolean;
  change(ws: NxWorkspace, ctx: RowContext): Promise<void> | void;
  /** Projects Nx must run; every other one is replayed. `undefined`: any subset of `mayRun`. */
  ran?: readonly string[];
  mayRun?: readonly string[];
  check?(ws: NxWorkspace, ctx: RowContext): Promise<void> | void;
}

interface RowContext {
  prefix: string;
  daemon: E2eDaemon;
  /** The Docker engine libx is loaded into: the daemon itself, or the one at DOCKER_HOST beside a buildkitd. */
  engine: E2eDaemon | undefined;
  /** The address the workspace builds with now. */
  builder: string;
  /** Directories a row made outside the workspace, removed after the table. */
  scratch: string[];
}

const tar = (ws: NxWorkspace, name: string, file: string) => fromTar(path.join(ws.dir, 'dist/out', `${name}.tar`), file);
const write = (ws: NxWorkspace, file: string, text: string) => ws.write({ [file]: text });

const rows: Row[] = [
  {
    name: 'a file in context "libs/x" set in project.json → libx and dot (context ".") rebuilt',
    change: (ws) => write(ws, 'libs/x/a.txt', 'x2\n'),
    ran: ['dot', 'libx'],
    check: (ws) => {
      expect(tar(ws, 'libx', 'ctx/a.txt')).toBe('x2\n');
      expect(tar(ws, 'dot', 'libs/x/a.txt')).toBe('x2\n');
    },
  },
  {
    name: 'a file the context\'s .dockerignore keeps out → every task a hit',
    change: (ws) => write(ws, 'libs/x/notes.draft', 'draft\n'),
    ran: [],
    check: (ws) => {
      expect(tar(ws, 'libx', 'ctx/notes.draft')).toBeUndefined();
      expect(tar(ws, 'libx', 'ctx/a.txt')).toBe('x2\n');
    },
  },
  {
    name: 'a file in a context set by nx.json targetDefaults → tdx and dot rebuilt',
    change: (ws) => write(ws, 'libs/td/a.txt', 'td2\n'),
    ran: ['dot', 'tdx'],
    check: (ws) => expect(tar(ws, 'tdx', 'ctx/a.txt')).toBe('td2\n'),
  },
  {
    name: 'a file in a context set by a configuration → cfg and dot rebuilt',
    change: (ws) => write(ws, 'libs/cfg/a.txt', 'cfg2\n'),
    ran: ['cfg', 'dot'],
    check: (ws) => expect(tar(ws, 'cfg', 'ctx/a.txt')).toBe('cfg2\n'),
  },
  {
    name: 'a Dockerfile outside the project root → dfout and dot rebuilt',
    change: (ws) => write(ws, 'docker/dfout.Dockerfile', 'FROM scratch\nCOPY . /ctx/\nCOPY own.txt /v2.txt\n'),
    ran: ['dfout', 'dot'],
    check: (ws) => expect(tar(ws, 'dfout', 'v2.txt')).toBe('own\n'),
  },
  {
    name: 'a file in a local: named context → named and dot rebuilt',
    change: (ws) => write(ws, 'libs/named/a.txt', 'named2\n'),
    ran: ['dot', 'named'],
    check: (ws) => expect(tar(ws, 'named', 'extra/a.txt')).toBe('named2\n'),
  },
  {
    name: 'a deleted tar output → restored or rebuilt, never a success without the file',
    change: (ws) => fs.rmSync(path.join(ws.dir, 'dist/out/libx.tar')),
    mayRun: ['libx'],
    check: (ws) => expect(tar(ws, 'libx', 'ctx/a.txt')).toBe('x2\n'),
  },
  {
    name: '`docker rmi` of a loaded image in the engine it was loaded into → rebuilt and loaded again',
    needsLoad: true,
    change: async (ws, ctx) => {
      const engine = socketOf(ctx.engine!);
      const answer = await engineRequest(engine, 'DELETE', `/images/${encodeURIComponent(`${ctx.prefix}/libx:latest`)}?force=1`);
      expect(answer.status).toBe(200);
      expect(await inspectImage(engine, `${ctx.prefix}/libx:latest`)).toBeUndefined();
    },
    ran: ['libx'],
    check: async (ws, ctx) => {
      const metadata = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/images/apps/libx/metadata.json'), 'utf8')) as { configDigest?: string; digest?: string };
      const id = await inspectImage(socketOf(ctx.engine!), `${ctx.prefix}/libx:latest`);
      expect([metadata.configDigest, metadata.digest]).toContain(id);
    },
  },
  {
    name: 'the builder address switched → every image rebuilt on the new address',
    change: (ws, ctx) => {
      // Another address of the same daemon (a symlinked socket): a different builder as far as any hash can tell.
      const altDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-cache-alt-'));
      ctx.scratch.push(altDir);
      const alt = path.join(altDir, 'builder.sock');
      fs.symlinkSync(socketOf(ctx.daemon), alt);
      ctx.builder = `${ctx.daemon.address.startsWith('docker://') ? 'docker://' : 'unix://'}${alt}`;
      const nxJson = JSON.parse(fs.readFileSync(path.join(ws.dir, 'nx.json'), 'utf8')) as { plugins: Array<{ options: { options: Record<string, unknown> } }> };
      nxJson.plugins[0]!.options.options['builder'] = ctx.builder;
      write(ws, 'nx.json', JSON.stringify(nxJson));
    },
    ran: [...built],
    check: (ws, ctx) => {
      const report = fs.readFileSync(path.join(ws.dir, 'dist/images/apps/libx/metadata.json'), 'utf8');
      if (ctx.daemon.kind === 'docker') expect(report).toContain(socketOf({ ...ctx.daemon, address: ctx.builder }));
      expect(tar(ws, 'libx', 'ctx/a.txt')).toBe('x2\n');
    },
  },
  {
    name: 'a commit that changes no file → rebuilt where the image names the commit (default OCI labels), a hit where nothing of it is in the image',
    change: (ws) => {
      ws.git('commit', '-q', '--allow-empty', '-m', 'nothing a build reads');
    },
    ran: built.filter((p) => p !== 'steady'),
    check: async (ws, ctx) => {
      if (ctx.daemon.kind !== 'docker') return;
      // The loaded image is labelled with the commit it was built at, not the one before.
      const answer = await engineRequest(socketOf(ctx.daemon), 'GET', `/images/${encodeURIComponent(`${ctx.prefix}/libx:latest`)}/json`);
      const labels = (JSON.parse(answer.body) as { Config: { Labels: Record<string, string> } }).Config.Labels;
      expect(labels['org.opencontainers.image.revision']).toBe(ws.git('rev-parse', 'HEAD').trim());
    },
  },
];

const daemonsUnderTest = [docker, buildkitd].filter((d): d is E2eDaemon => d !== undefined);

// Under Node on every daemon, under Bun on the first one (the runtime changes how Nx forks the
// executor and the runtime input, not what the daemon does): the file's run time stays a few minutes.
const combinations = daemonsUnderTest.flatMap((daemon, i) => (i === 0 ? (['node', 'bun'] as const) : (['node'] as const)).map((runtime) => ({ runtime, daemon })));

for (const { runtime, daemon } of combinations) {
  describe(`Nx cache table, Nx CLI under ${runtime}, on ${daemon.name} (${daemon.kind})`, () => {
    const prefix = `nxbk-e2e-cache-${runId}-${runtime}-${daemon.kind}`;
    const engine = daemon.kind === 'docker' ? daemon : loadEngineBeside();
    const load = engine !== undefined;
    const ctx: RowContext = { prefix, daemon, engine, builder: daemon.address, scratch: [] };
    let ws: NxWorkspace;
    const runAll = () => outcome(ws.nx(runtime, ['run-many', '-t', 'image', '--exclude=hand', '--output-style=static']));

    beforeAll(() => {
      // With a buildkitd, `load` goes into the engine DOCKER_HOST names.
      const dockerHost: Record<string, string> = engine && engine !== daemon ? { DOCKER_HOST: `unix://${socketOf(engine)}` } : {};
      ws = createFixtureWorkspace(tableWorkspace(daemon.address, prefix, load), {}, dockerHost);
    });
    afterAll(async () => {
      if (engine) await removeImagesUnder(socketOf(engine), prefix);
      for (const dir of ctx.scratch) fs.rmSync(dir, { recursive: true, force: true });
      ws?.[Symbol.dispose]();
    });

    test('the inferred inputs name every directory each build reads', () => {
      const r = ws.nx(runtime, ['graph', '--file=dist/graph.json']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      type Graph = { graph: { nodes: Record<string, { data: { targets: { image: { inputs: unknown[]; outputs: string[] } } } }> } };
      const graph = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/graph.json'), 'utf8')) as Graph;
      const show = (p: string) => graph.graph.nodes[p]!.data.targets.image;
      expect(show('libx').inputs).toContain('{workspaceRoot}/libs/x/**/*');
      expect(show('libx').inputs).toContain('!{workspaceRoot}/libs/x/*.draft');
      expect(show('dot').inputs).toContain('{workspaceRoot}/**/*');
      expect(show('tdx').inputs).toContain('{workspaceRoot}/libs/td/**/*');
      expect(show('cfg').inputs).toEqual(expect.arrayContaining(['{projectRoot}/**/*', '{workspaceRoot}/libs/cfg/**/*']));
      expect(show('dfout').inputs).toContain('{workspaceRoot}/docker/dfout.Dockerfile');
      expect(show('named').inputs).toContain('{workspaceRoot}/libs/named/**/*');
      expect(show('libx').outputs).toContain('{workspaceRoot}/dist/out/libx.tar');
      expect(show('hand').inputs).toEqual(['{projectRoot}/**/*']);
    }, timeout);

    test('first run builds every image; the second replays every one', () => {
      const first = runAll();
      expect(first.status, first.out).toBe(0);
      expect(first.ran).toEqual([...built]);
      expect(tar(ws, 'libx', 'ctx/a.txt')).toBe('x1\n');
      const second = runAll();
      expect(second.status, second.out).toBe(0);
      expect(second.ran).toEqual([]);
      expect(second.cached).toEqual([...built]);
    }, timeout);

    for (const row of rows) {
      const skip = row.needsLoad === true && !engine;
      test.skipIf(skip)(`${row.name}${skip ? ' (skipped: no Docker engine of e2e/daemons/up.sh to load into beside the buildkitd)' : ''}`, async () => {
        await row.change(ws, ctx);
        const r = runAll();
        expect(r.status, r.out).toBe(0);
        if (row.ran) expect(r.ran).toEqual([...row.ran].sort());
        else expect(row.mayRun).toEqual(expect.arrayContaining(r.ran));
        expect(r.cached).toEqual(built.filter((p) => !r.ran.includes(p)));
        // What each row leaves is cached: the next row's expected set (a hit for all it did not change) checks that too.
        await row.check?.(ws, ctx);
      }, timeout);
    }

    test('inputs written by hand that miss the context: the task fails naming project, target, option and directory, and is never cached', () => {
      for (let i = 0; i < 2; i++) {
        const r = outcome(ws.nx(runtime, ['run-many', '-t', 'image', '--projects=hand', '--output-style=static']));
        expect(r.status).not.toBe(0);
        expect(r.ran).toEqual(['hand']);
        expect(r.out).toContain('hand:image: option "context" reads directory libs/hand/, which the target\'s Nx inputs do not cover');
        expect(r.out).toContain('{workspaceRoot}/libs/hand/**/*');
      }
      expect(fs.existsSync(path.join(ws.dir, 'dist/out/hand.tar'))).toBe(false);
    }, timeout);

    test('a context given on the command line that the inputs miss is caught the same way', () => {
      const r = outcome(ws.nx(runtime, ['run-many', '-t', 'image', '--projects=libx', '--context=libs/named', '--output-style=static']));
      expect(r.status).not.toBe(0);
      expect(r.ran).toEqual(['libx']);
      expect(r.out).toContain('libx:image: option "context" reads directory libs/named/');
    }, timeout);
  });
}

// The example workspace (examples/workspace) as a user runs it: web and admin build from libs/ui.
const exampleSkip = !docker
  ? 'skipped: needs a Docker engine (the example loads its images)'
  : !fs.existsSync(path.join(daemonsHome(), 'base-rootfs.tar'))
  ? 'skipped: no base-rootfs.tar from e2e/daemons/up.sh'
  : spawnSync('docker', ['--version']).status !== 0
  ? 'skipped: no docker CLI to read files of the built images'
  : '';
describe.skipIf(exampleSkip !== '')(`the example workspace: a change in libs/ui rebuilds web and admin, nothing else ${exampleSkip}`, () => {
  const runtime: NxRuntime = 'node';
  const prefix = `nxbk-e2e-cache-${runId}-example`;
  let ws: NxWorkspace;
  const runAll = () => outcome(ws.nx(runtime, ['run-many', '-t', 'image', '--exclude=git-sync', '--output-style=static']));
  const cat = (image: string, file: string) =>
    spawnSync('docker', ['-H', `unix://${socketOf(docker!)}`, 'run', '--rm', '--network', 'none', image, 'cat', file], { encoding: 'utf8' }).stdout;

  beforeAll(() => {
    const exampleDir = path.join(repoRoot, 'examples/workspace');
    const spec: TreeSpec = {};
    // Walked by hand, not with readdirSync's `recursive`: a checkout where the main job ran has the example's
    // node_modules, whose link to this package leads back to the example (a loop a recursive listing follows).
    const walk = (rel: string): string[] =>
      fs.readdirSync(path.join(exampleDir, rel), { withFileTypes: true }).flatMap((e) => {
        const child = rel ? `${rel}/${e.name}` : e.name;
        if (/^(node_modules|dist|\.nx)$/.test(child)) return [];
        return e.isDirectory() ? walk(child) : e.isFile() ? [child] : [];
      });
    for (const rel of walk('')) {
      if (rel === 'nx.json' || rel === 'base/rootfs.tar') continue;
      spec[rel] = fs.readFileSync(path.join(exampleDir, rel), 'utf8').replaceAll('nxbk-example/', `${prefix}/`);
    }
    ws = createFixtureWorkspace(spec, { targetName: 'image', options: { network: 'none', concurrency: 4, builder: docker!.address } }, { EXAMPLE_NPM_TOKEN: 'example-token' });
    fs.copyFileSync(path.join(daemonsHome(), 'base-rootfs.tar'), path.join(ws.dir, 'base/rootfs.tar'));
  });
  afterAll(async () => {
    await removeImagesUnder(socketOf(docker!), prefix);
    ws?.[Symbol.dispose]();
  });

  test('built, replayed, then a libs/ui change rebuilds exactly web and admin, whose images hold the new file', () => {
    const first = runAll();
    expect(first.status, first.out).toBe(0);
    expect(first.ran).toEqual(['admin', 'api', 'base', 'web', 'worker']);
    expect(runAll().cached).toEqual(['admin', 'api', 'base', 'web', 'worker']);
    ws.write({ 'libs/ui/index.html': '<h1>changed by the e2e</h1>\n' });
    const r = runAll();
    expect(r.status, r.out).toBe(0);
    expect(r.ran).toEqual(['admin', 'web']);
    expect(r.cached).toEqual(['api', 'base', 'worker']);
    expect(cat(`${prefix}/web`, '/srv/web/index.html')).toBe('<h1>changed by the e2e</h1>\n');
    expect(cat(`${prefix}/admin`, '/srv/admin/index.html')).toBe('<h1>changed by the e2e</h1>\n');
    // A file libs/ui's .dockerignore keeps out: nothing rebuilt.
    ws.write({ 'libs/ui/notes.draft': 'draft 2\n' });
    expect(runAll().ran).toEqual([]);
  }, timeout);
});
