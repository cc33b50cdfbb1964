import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { ProjectConfiguration, TargetConfiguration } from '@nx/devkit';
import { randomBytes } from 'node:crypto';
import { e2eEnvironment, nxBuilders } from './support/daemons';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxRuntime, NxWorkspace } from './support/nx-workspace';

// The real Nx CLI on a fixture workspace, under Node and under Bun: no daemon
// is involved, inference only reads files.
const timeout = 120_000;
let ws: NxWorkspace;

beforeAll(() => {
  ws = createFixtureWorkspace(
    {
      'images/base/project.json': JSON.stringify({ name: 'base' }),
      'images/base/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\n',
      'images/base/hello.txt': 'hello\n',
      'images/app-a/project.json': JSON.stringify({ name: 'app-a' }),
      'images/app-a/Dockerfile': 'FROM base\nCOPY . /app\n',
      'images/app-a/.dockerignore': '# docs stay out of the image\n*.md\nnode_modules\n',
      'images/app-a/README.md': 'readme\n',
      'images/app-a/docs/guide.md': 'guide\n',
      'images/app-a/main.txt': 'main\n',
      'images/app-b/project.json': JSON.stringify({ name: 'app-b', targets: { image: { options: { imageName: 'nxbk/app-b' } } } }),
      'images/app-b/Dockerfile': 'FROM --platform=$BUILDPLATFORM docker.io/library/base:latest AS build\nRUN true\nFROM nxbk-base\nCOPY --from=build /hello.txt /x\n',
      'libs/lib/project.json': JSON.stringify({ name: 'lib' }),
      'libs/lib/src/index.ts': 'export const x = 1;\n',
    },
    { options: { network: 'none' } },
  );
});

afterAll(() => ws?.[Symbol.dispose]());

const imageTarget = (runtime: NxRuntime, project: string) =>
  ws.nxJson<ProjectConfiguration>(runtime, ['show', 'project', project, '--json']).targets?.image as TargetConfiguration | undefined;

/** Change a committed file, ask Nx what is affected, then restore the file. */
function affectedAfterTouching(runtime: NxRuntime, file: string): string[] {
  const abs = path.join(ws.dir, file);
  const before = fs.readFileSync(abs, 'utf8');
  fs.appendFileSync(abs, 'changed\n');
  try {
    return ws.nxJson<string[]>(runtime, ['show', 'projects', '--affected', '--base=HEAD', '--json']).sort();
  } finally {
    fs.writeFileSync(abs, before);
  }
}

for (const runtime of ['node', 'bun'] as const) {
  describe(`Nx CLI under ${runtime}`, () => {
    test('every project with a Dockerfile gets an image target; others do not', () => {
      expect(ws.nxJson<string[]>(runtime, ['show', 'projects', '--json']).sort()).toEqual(['app-a', 'app-b', 'base', 'lib']);
      expect(imageTarget(runtime, 'lib')).toBeUndefined();
      const base = imageTarget(runtime, 'base')!;
      expect(base.executor).toBe('nx-buildkit:image');
      expect(base.dependsOn ?? []).toEqual([]);
    }, timeout);

    test('the inferred target: options, inputs from .dockerignore, outputs, dependsOn', () => {
      const a = imageTarget(runtime, 'app-a')!;
      expect(a.executor).toBe('nx-buildkit:image');
      expect(a.cache).toBe(true);
      expect(a.options).toEqual({ network: 'none', context: 'images/app-a', dockerfile: 'images/app-a/Dockerfile' });
      expect(a.inputs).toEqual([
        '{projectRoot}/**/*',
        '{projectRoot}/Dockerfile',
        '!{projectRoot}/*.md',
        '!{projectRoot}/*.md/**',
        '!{projectRoot}/node_modules',
        '!{projectRoot}/node_modules/**',
        { dependentTasksOutputFiles: '**/metadata.json' },
        { env: 'SOURCE_DATE_EPOCH' },
        { env: 'BUILDKIT_HOST' },
        { env: 'DOCKER_HOST' },
        { env: 'DOCKER_CONTEXT' },
        // The checkout the default OCI labels come from (checkout-inputs.ts): one command shared by every such target.
        { runtime: "git log -1 --format=%H%n%cI HEAD 2>/dev/null; git tag --points-at HEAD 2>/dev/null; git remote get-url origin 2>/dev/null | sed 's#//[^/@]*@#//#'; true" },
        // A grep answers for images neither pushed nor loaded; the checker (under Bun where installed) asks the registry or engine about the rest (check-image-command.ts).
        {
          runtime:
            `grep -Eqs '"(pushed|loaded)"[[:space:]]*:[[:space:]]*true' dist/images/images/app-a/metadata.json; ` +
            'case $? in 1) echo ok;; *) if command -v bun >/dev/null 2>&1; then bun node_modules/nx-buildkit/dist/check-image.cjs dist/images/images/app-a/metadata.json; ' +
            'else node node_modules/nx-buildkit/dist/check-image.cjs dist/images/images/app-a/metadata.json; fi;; esac',
        },
      ]);
      expect(a.outputs).toEqual(['{workspaceRoot}/dist/images/{projectRoot}/metadata.json', '{workspaceRoot}/dist/images/{projectRoot}/build-report.json']);
      expect(a.dependsOn).toEqual([{ projects: ['base'], target: 'image' }]);
      // app-b names base by its full reference, in a stage with a platform flag
      const b = imageTarget(runtime, 'app-b')!;
      expect(b.options).toMatchObject({ imageName: 'nxbk/app-b', context: 'images/app-b' });
      expect(b.dependsOn).toEqual([{ projects: ['base'], target: 'image' }]);
    }, timeout);

    test('Nx resolves the inputs and outputs as the executor will use them', () => {
      const inputs = ws.nxJson<{ files: string[] }>(runtime, ['show', 'target', 'inputs', 'app-a:image', '--json']);
      const own = inputs.files.filter((f) => f.startsWith('images/app-a/'));
      expect(own.sort()).toEqual([
        'images/app-a/.dockerignore',
        'images/app-a/Dockerfile',
        'images/app-a/docs/guide.md', // `*.md` in .dockerignore is anchored at the context root
        'images/app-a/main.txt',
        'images/app-a/project.json',
      ]);
      const outputs = ws.nxJson<{ outputPaths: string[] }>(runtime, ['show', 'target', 'outputs', 'app-a:image', '--json']);
      expect(outputs.outputPaths).toEqual(['dist/images/images/app-a/metadata.json', 'dist/images/images/app-a/build-report.json']);
    }, timeout);

    test('the task graph orders images after the images they are built FROM', () => {
      const file = path.join(ws.dir, `dist/task-graph-${runtime}.json`);
      const r = ws.nx(runtime, ['run-many', '-t', 'image', `--graph=${file}`]);
      expect(r.status).toBe(0);
      // `--graph=<file>` writes { graph: project graph, tasks: task graph }; task edges are `{ id }` objects in Nx 24.
      const { tasks } = JSON.parse(fs.readFileSync(file, 'utf8')) as { tasks: { dependencies: Record<string, { id: string }[]> } };
      expect(tasks.dependencies).toEqual({ 'base:image': [], 'app-a:image': [{ id: 'base:image' }], 'app-b:image': [{ id: 'base:image' }] });
    }, timeout);

    test('the project graph has the FROM edges', () => {
      const file = path.join(ws.dir, `dist/graph-${runtime}.json`);
      const r = ws.nx(runtime, ['graph', `--file=${file}`]);
      expect(r.status).toBe(0);
      const deps = (JSON.parse(fs.readFileSync(file, 'utf8')) as { graph: { dependencies: Record<string, { target: string; type: string }[]> } }).graph.dependencies;
      expect(deps['app-a']).toEqual([{ source: 'app-a', target: 'base', type: 'static' }] as never);
      expect(deps['app-b']).toEqual([{ source: 'app-b', target: 'base', type: 'static' }] as never);
      expect(deps['base']).toEqual([]);
    }, timeout);

    test('a change to a base image affects the images built FROM it, not the other way round', () => {
      expect(affectedAfterTouching(runtime, 'images/base/hello.txt')).toEqual(['app-a', 'app-b', 'base']);
      expect(affectedAfterTouching(runtime, 'images/app-a/main.txt')).toEqual(['app-a']);
      expect(affectedAfterTouching(runtime, 'libs/lib/src/index.ts')).toEqual(['lib']);
    }, timeout);

    test('a dependant hashes the metadata file of the image it is built FROM', () => {
      const metadata = path.join(ws.dir, 'dist/images/images/base/metadata.json');
      fs.mkdirSync(path.dirname(metadata), { recursive: true });
      fs.writeFileSync(metadata, '{"digest":"sha256:0"}\n');
      try {
        const inputs = ws.nxJson<{ depOutputs?: string[] }>(runtime, ['show', 'target', 'inputs', 'app-a:image', '--json']);
        expect(inputs.depOutputs).toEqual(['dist/images/images/base/metadata.json']);
      } finally {
        fs.rmSync(path.join(ws.dir, 'dist/images'), { recursive: true, force: true });
      }
    }, timeout);

    test('a wrong plugin option fails the graph with a message naming it', () => {
      const nxJson = path.join(ws.dir, 'nx.json');
      const before = fs.readFileSync(nxJson, 'utf8');
      fs.writeFileSync(nxJson, JSON.stringify({ analytics: false, plugins: [{ plugin: 'nx-buildkit', options: { targetNam: 'x', options: { push: 'yes' } } }] }));
      try {
        const r = ws.nx(runtime, ['show', 'projects']);
        expect(r.status).not.toBe(0);
        const out = r.stdout + r.stderr;
        expect(out).toContain('nx-buildkit plugin option "targetNam": unknown option');
        expect(out).toContain('nx-buildkit plugin option "options.push": Invalid input: expected boolean, received string');
      } finally {
        fs.writeFileSync(nxJson, before);
      }
    }, timeout);
  });
}

// Every Nx command that computes the project graph loads the plugin (in a
// plugin worker of its own): what it loads is paid on each of them. Inference
// never talks to a daemon, so neither gRPC nor protobufjs belongs there, nor
// Nx's barrels (@nx/devkit, devkit-internals), which load most of Nx.
test('the graph plugin infers targets without loading gRPC, protobufjs or the Nx barrels', () => {
  const script = `
    const plugin = require('nx-buildkit');
    const files = ['images/base/Dockerfile', 'images/app-a/Dockerfile', 'images/app-b/Dockerfile'];
    plugin.createNodes[1](files, {}, { workspaceRoot: process.cwd(), nxJsonConfiguration: { targetDefaults: { image: { options: { pull: true } } } } }).then((results) => {
      const loaded = Object.keys(require.cache).filter((f) => /node_modules\\/(@grpc|protobufjs|@nx\\/devkit)\\/|devkit-internals|devkit-exports/.test(f));
      console.log(JSON.stringify({ targets: results.map(([file, r]) => Object.keys(Object.values(r.projects)[0].targets)), loaded }));
    });`;
  const r = spawnSync('node', ['-e', script], { cwd: ws.dir, encoding: 'utf8' });
  expect(r.stderr).toBe('');
  const out = JSON.parse(r.stdout) as { targets: string[][]; loaded: string[] };
  expect(out.targets).toEqual([['image'], ['image'], ['image']]);
  expect(out.loaded).toEqual([]);
}, timeout);

// The inferred inputs decide Nx's cache for real builds: a changed base image
// rebuilds the images built FROM it (they hash its metadata file), a file that
// .dockerignore keeps out of the context changes nothing.
// On the first Docker engine and on buildkitd (with the test registry).
const cacheEnv = e2eEnvironment();
const cacheBuilders = nxBuilders().filter((d) => d.kind === 'docker' || cacheEnv.registry);
if (cacheBuilders.length === 0) test.skip('Nx cache over real builds (skipped: no Docker engine, and no buildkitd with the test registry)', () => {});
for (const docker of cacheBuilders) describe(`Nx cache over real builds (${docker.name}, Nx under node)`, () => {
  const id = randomBytes(4).toString('hex');
  // Each task runs in an executor of its own (--batch=false), so app's FROM must find base outside the run:
  // `load` puts it into the engine; buildkitd (no image store) pushes it to the test registry
  // (app too: a buildkitd target without outputs stays in the build cache and has no digest).
  const loads = docker.kind === 'docker';
  const pushes = loads ? {} : { push: true, insecureRegistry: true };
  const prefix = `${loads ? '' : `${cacheEnv.registry}/`}nxbk-plugin-e2e-${id}-${docker.name}`;
  let cws: NxWorkspace;
  beforeAll(() => {
    cws = createFixtureWorkspace(
      {
        'base/project.json': JSON.stringify({ name: 'base', targets: { image: { options: { imageName: `${prefix}/base`, ...pushes } } } }),
        'base/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\n',
        'base/hello.txt': 'hello\n',
        'app/project.json': JSON.stringify({ name: 'app', targets: { image: { options: { imageName: `${prefix}/app`, ...pushes } } } }),
        'app/Dockerfile': `FROM ${prefix}/base\nCOPY . /app\nRUN cat /hello.txt /app/main.txt\n`,
        'app/.dockerignore': '*.md\n',
        'app/README.md': 'readme\n',
        'app/main.txt': 'main\n',
      },
      { options: { builder: docker.address, network: 'none', ...(loads ? { load: true } : {}), progress: 'plain' } },
    );
  });
  afterAll(() => cws?.[Symbol.dispose]());

  /** Build both images; returns the projects Nx replayed from its cache. */
  const build = (): string[] => {
    // One task per executor call: this is about what Nx hashes, not about batch runs.
    const r = cws.nx('node', ['run-many', '-t', 'image', '--batch=false', '--output-style=static']);
    const out = r.stdout + r.stderr;
    if (r.status !== 0) throw new Error(`nx run-many -t image failed:\n${out}`);
    const cached = [...out.matchAll(/nx run ([\w-]+):image\s+\[(?:local cache|existing outputs match the cache, left as is)\]/g)].map((m) => m[1]!);
    return [...new Set(cached)].sort();
  };
  const append = (file: string) => fs.appendFileSync(path.join(cws.dir, file), 'changed\n');

  test('first build, then a full cache hit', () => {
    expect(build()).toEqual([]);
    const metadata = JSON.parse(fs.readFileSync(path.join(cws.dir, 'dist/images/app/metadata.json'), 'utf8')) as { digest?: string };
    expect(metadata.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(build()).toEqual(['app', 'base']);
  }, timeout);

  test('a change to the base rebuilds the image built FROM it', () => {
    append('base/hello.txt');
    expect(build()).toEqual([]);
  }, timeout);

  test('a file .dockerignore keeps out of the context changes nothing', () => {
    append('app/README.md');
    expect(build()).toEqual(['app', 'base']);
  }, timeout);

  test('a context file of the dependant rebuilds only the dependant', () => {
    append('app/main.txt');
    expect(build()).toEqual(['base']);
  }, timeout);
});
