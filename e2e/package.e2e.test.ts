import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eEnvironment } from './support/daemons';
import { imagesUnder, removeImagesUnder } from './support/engine-images';
import { writeTree } from './support/files';
import { nxEnvironment, repoRoot } from './support/nx-workspace';

// The package as a user gets it: `npm pack` of this checkout, installed with
// `nx add` into a fresh Nx workspace (a package.json and an nx.json, Nx from
// the npm registry) of the oldest and of the newest Nx major the package
// supports; three Dockerfile projects built with `nx run-many -t image`
// against a Docker engine found through DOCKER_HOST; the BuildKit client
// imported from .mjs and .cjs under Node and Bun. Nx's own install is kept
// per version under the cache directory below (the registry is asked once);
// each test run copies it into a new workspace.

const timeout = 600_000;
/** The Nx majors the package's peer range spans, oldest and newest (package.json peerDependencies). */
const nxMajors = (process.env.NXBK_E2E_NX_MAJORS ?? '20,24').split(',').filter(Boolean);
const env = e2eEnvironment();
const docker = env.daemons.find((d) => d.kind === 'docker' && d.imageStore !== 'containerd');
const sock = docker?.address.replace(/^docker:\/\//, '') ?? '';
const runId = randomBytes(4).toString('hex');
const cacheDir = path.join(os.homedir(), '.cache', 'nx-buildkit', 'package-e2e');
const npmAvailable = spawnSync('npm', ['--version']).status === 0;
const skipReason = !docker ? 'needs a classic-store Docker engine (docker-28 of e2e/daemons/up.sh)' : !npmAvailable ? 'needs npm on PATH' : undefined;

function run(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): { status: number | null; out: string } {
  const r = spawnSync(cmd, args, { cwd, env: { ...nxEnvironment(), ...extraEnv }, encoding: 'utf8', timeout: 300_000 });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}`.replace(/\x1b\[[0-9;]*m/g, '') };
}

function mustRun(cmd: string, args: string[], cwd: string, extraEnv: Record<string, string> = {}): string {
  const r = run(cmd, args, cwd, extraEnv);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}:\n${r.out}`);
  return r.out;
}

/** Nx `major` installed from the registry into a cached template workspace (package.json, lock, node_modules). */
function nxTemplate(major: string): string {
  const dir = path.join(cacheDir, `nx-${major}`);
  if (fs.existsSync(path.join(dir, 'node_modules', 'nx', 'package.json'))) return dir;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'workspace', private: true }, null, 2));
  mustRun('npm', ['install', '--no-audit', '--no-fund', '--save-dev', `nx@${major}`, `@nx/devkit@${major}`], dir);
  return dir;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

describe.skipIf(!!skipReason)(`the npm package${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let packDir: string;
  let tarball: string;

  beforeAll(() => {
    packDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-pack-'));
    // `npm pack` runs the package's prepack script: the full dist/ build, types included.
    mustRun('npm', ['pack', '--pack-destination', packDir], repoRoot);
    const packed = fs.readdirSync(packDir).filter((f) => f.endsWith('.tgz'));
    expect(packed).toHaveLength(1);
    tarball = path.join(packDir, packed[0]!);
  }, timeout);

  afterAll(() => fs.rmSync(packDir, { recursive: true, force: true }));

  test('the tarball holds the compiled package only, small, with no path of the machine that built it', () => {
    const files = mustRun('tar', ['-tzf', tarball], packDir).trim().split('\n').map((f) => f.replace(/^package\//, '')).sort();
    for (const required of ['package.json', 'README.md', 'LICENSE', 'executors.json', 'generators.json', 'executors/image/schema.json', 'generators/init/schema.json', 'generators/convert-from-nx-container/schema.json', 'dist/generators/convert-from-nx-container/convert.cjs', 'dist/plugin/index.cjs', 'dist/plugin/index.d.cts', 'dist/executors/image/executor.cjs', 'dist/generators/init/init.cjs', 'dist/check-image.cjs', 'dist/buildkit/index.mjs', 'dist/buildkit/index.cjs', 'dist/buildkit/index.d.ts', 'dist/buildkit/index.d.cts', 'dist/engine/index.mjs', 'dist/engine/index.cjs', 'dist/engine/index.d.ts', 'dist/engine/index.d.cts']) {
      expect(files).toContain(required);
    }
    expect(files.filter((f) => /\.test\.|^e2e\/|^bench\/|^examples\/|^scripts\/|^proto\/|^\.ci\/|(^|\/)(bun\.lock|package-lock\.json|yarn\.lock|pnpm-lock\.yaml)$|\.map$/.test(f))).toEqual([]);
    // TypeScript only as declarations: everything that runs is JavaScript.
    expect(files.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts') && !f.endsWith('.d.cts'))).toEqual([]);
    // About 710 kB: the client and the engine each as ESM and CJS bundles with their declarations,
    // and zod/minimatch inside the plugin and executor bundles (README, Install).
    expect(fs.statSync(tarball).size).toBeLessThan(800 * 1024);
    const unpacked = fs.mkdtempSync(path.join(packDir, 'unpacked-'));
    mustRun('tar', ['-xzf', tarball, '-C', unpacked], packDir);
    for (const f of files) {
      const text = fs.readFileSync(path.join(unpacked, 'package', f), 'utf8');
      expect(text.includes(repoRoot), `${f} names ${repoRoot}`).toBe(false);
    }
    const manifest = JSON.parse(fs.readFileSync(path.join(unpacked, 'package', 'package.json'), 'utf8')) as { private?: boolean };
    expect(manifest.private).toBeUndefined();
  });

  for (const major of nxMajors) {
    describe(`in a fresh workspace with Nx ${major}`, () => {
      const prefix = `nxbk-e2e-pkg-${runId}-nx${major}`;
      const secret = `pkg-secret-${runId}`;
      let ws: string;
      const nx = (...args: string[]) => run(path.join(ws, 'node_modules/.bin/nx'), [...args], ws, { DOCKER_HOST: `unix://${sock}`, NXBK_PKG_TOKEN: secret });

      beforeAll(() => {
        const template = nxTemplate(major);
        ws = fs.mkdtempSync(path.join(os.tmpdir(), `nxbk-pkg-nx${major}-`));
        fs.cpSync(template, ws, { recursive: true, verbatimSymlinks: true });
        writeTree(ws, {
          'nx.json': JSON.stringify({ analytics: false }, null, 2),
          '.gitignore': 'node_modules\n',
        });
        mustRun('git', ['init', '-q', '-b', 'main'], ws);
      }, timeout);

      afterAll(async () => {
        if (sock) await removeImagesUnder(sock, prefix);
        if (ws) fs.rmSync(ws, { recursive: true, force: true });
      });

      test('nx add nx-buildkit installs the tarball, registers the plugin and ignores dist/images, saying so; a second run changes nothing', () => {
        const r = nx('add', `nx-buildkit@file:${tarball}`);
        expect(r.status, r.out).toBe(0);
        expect(r.out).toContain('nx-buildkit: registered the plugin in nx.json');
        expect(r.out).toContain('nx-buildkit: added /dist/images (image metadata and build reports) to .gitignore');
        const nxJson = JSON.parse(fs.readFileSync(path.join(ws, 'nx.json'), 'utf8')) as { plugins?: unknown[] };
        expect(nxJson.plugins).toEqual([{ plugin: 'nx-buildkit', options: {} }]);
        expect(fs.readFileSync(path.join(ws, '.gitignore'), 'utf8')).toContain('\n/dist/images\n');
        const installed = JSON.parse(fs.readFileSync(path.join(ws, 'node_modules/nx-buildkit/package.json'), 'utf8')) as { name: string };
        expect(installed.name).toBe('nx-buildkit');

        const before = ['nx.json', '.gitignore'].map((f) => fs.readFileSync(path.join(ws, f), 'utf8'));
        const again = nx('g', 'nx-buildkit:init');
        expect(again.status, again.out).toBe(0);
        expect(again.out).toContain('the plugin is already registered in nx.json (left as it is)');
        expect(['nx.json', '.gitignore'].map((f) => fs.readFileSync(path.join(ws, f), 'utf8'))).toEqual(before);
      }, timeout);

      test('run-many builds three Dockerfile projects: one FROM another, one with a secret, one with a context outside its root', async () => {
        // `network: none`: the e2e engines have no bridge network.
        const image = (name: string, options: Record<string, unknown>) => JSON.stringify({ name, targets: { image: { options: { imageName: `${prefix}/${name}`, network: 'none', ...options } } } });
        writeTree(ws, {
          'base/project.json': image('base', { load: true }),
          'base/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\n',
          'base/hello.txt': `hello ${runId}\n`,
          'apps/api/project.json': image('api', { secrets: [{ id: 'token', env: 'NXBK_PKG_TOKEN' }], outputs: [{ type: 'local', dest: 'dist/out/api' }] }),
          'apps/api/Dockerfile': `FROM ${prefix}/base\nRUN --mount=type=secret,id=token sha256sum /run/secrets/token | cut -d' ' -f1 > /proof\n`,
          'apps/web/project.json': image('web', { context: 'shared', outputs: [{ type: 'local', dest: 'dist/out/web' }] }),
          'apps/web/Dockerfile': 'FROM nxbk-base:latest\nCOPY . /ctx/\n',
          'shared/site.txt': `site ${runId}\n`,
        });
        mustRun('git', ['add', '-A'], ws);
        mustRun('git', ['-c', 'user.name=e2e', '-c', 'user.email=e2e@example.invalid', 'commit', '-qm', 'three images'], ws);

        const graph = nx('show', 'projects', '--json');
        expect(graph.status, graph.out).toBe(0);
        expect((JSON.parse(graph.out.slice(graph.out.indexOf('['))) as string[]).sort()).toEqual(['api', 'base', 'web']);

        const r = nx('run-many', '-t', 'image', '--output-style=static');
        expect(r.status, r.out).toBe(0);
        expect(r.out).not.toContain(secret);
        // api is built FROM base's image of this run: base's file is in it, and the secret reached the build.
        expect(fs.readFileSync(path.join(ws, 'dist/out/api/hello.txt'), 'utf8')).toBe(`hello ${runId}\n`);
        expect(fs.readFileSync(path.join(ws, 'dist/out/api/proof'), 'utf8').trim()).toBe(sha256(secret));
        expect(fs.readFileSync(path.join(ws, 'dist/out/web/ctx/site.txt'), 'utf8')).toBe(`site ${runId}\n`);
        const metadata = (root: string) => JSON.parse(fs.readFileSync(path.join(ws, 'dist/images', root, 'metadata.json'), 'utf8')) as { digest?: string; imageNames: string[] };
        // base is an image (loaded into the engine); api and web export files only, so they have no digest.
        expect(metadata('base').digest).toMatch(/^sha256:[0-9a-f]{64}$/);
        expect(metadata('apps/api').imageNames).toEqual([`${prefix}/api:latest`]);
        expect(metadata('apps/web').imageNames).toEqual([`${prefix}/web:latest`]);
        expect(Object.keys(await imagesUnder(sock, prefix))).toEqual([`${prefix}/base:latest`]);
      }, timeout);

      test('nx g nx-buildkit:convert-from-nx-container from the installed package rewrites an nx-container target, saying what it left out', () => {
        writeTree(ws, {
          'legacy/project.json': JSON.stringify({ name: 'legacy', targets: { container: { executor: '@nx-tools/nx-container:build', options: { context: 'legacy', tags: ['legacy:1'], 'build-args': ['A=1'], sbom: true } } } }),
        });
        const r = nx('g', 'nx-buildkit:convert-from-nx-container', '--project=legacy', '--no-interactive');
        expect(r.status, r.out).toBe(0);
        expect(r.out).toContain('nx-buildkit: converted legacy:container (@nx-tools/nx-container:build) → legacy:image (nx-buildkit:image)');
        expect(r.out).toContain('legacy:container: "sbom" left out: nx-buildkit has no such option');
        const target = (JSON.parse(fs.readFileSync(path.join(ws, 'legacy/project.json'), 'utf8')) as { targets: Record<string, { executor: string; options: Record<string, unknown> }> }).targets['image']!;
        expect(target).toEqual({ executor: 'nx-buildkit:image', options: { context: 'legacy', dockerfile: 'legacy/Dockerfile', ociLabels: false, tags: ['legacy:1'], buildArgs: { A: '1' } } });
      }, timeout);

      if (major === nxMajors[nxMajors.length - 1]) {
        test('nx-buildkit/buildkit loads from .mjs and .cjs under Node and Bun and talks to the daemon; its types resolve for both', () => {
          const body = (load: string) => `${load}
const client = await BuildkitClient.connect({ address: ${JSON.stringify(docker!.address)} });
try {
  const workers = await client.listWorkers();
  console.log(JSON.stringify({ workers: workers.length, platforms: workers[0]?.platforms.length ?? 0 }));
} finally {
  await client.close();
}
`;
          writeTree(ws, {
            'client/check.mjs': body("import { BuildkitClient } from 'nx-buildkit/buildkit';"),
            // CommonJS has no top-level await: the same lines in an async function.
            'client/check.cjs': `const { BuildkitClient } = require('nx-buildkit/buildkit');\n(async () => {\n${body('')}})().catch((e) => { console.error(e); process.exit(1); });\n`,
            'client/types.mts': "import { BuildkitClient, type WorkerInfo } from 'nx-buildkit/buildkit';\nexport const connect: (a: string) => Promise<BuildkitClient> = (address) => BuildkitClient.connect({ address });\nexport type W = WorkerInfo['platforms'];\n",
            'client/types.cts': "import { BuildkitClient } from 'nx-buildkit/buildkit';\nimport { createNodesV2 } from 'nx-buildkit';\nexport const connect = (address: string): Promise<BuildkitClient> => BuildkitClient.connect({ address });\nexport const glob: string = createNodesV2[0];\n",
            'client/tsconfig.json': JSON.stringify({ compilerOptions: { module: 'node16', moduleResolution: 'node16', target: 'ES2022', strict: true, noEmit: true, types: ['node'], typeRoots: [path.join(repoRoot, 'node_modules/@types')], lib: ['ES2023', 'ESNext.Disposable'], skipLibCheck: true }, files: ['types.mts', 'types.cts'] }),
          });
          const bun = process.versions.bun ? process.execPath : 'bun';
          for (const [runtime, file] of [['node', 'check.mjs'], ['node', 'check.cjs'], [bun, 'check.mjs'], [bun, 'check.cjs']] as const) {
            const r = run(runtime, [file], path.join(ws, 'client'));
            expect(r.status, `${runtime} ${file}\n${r.out}`).toBe(0);
            const answer = JSON.parse(r.out.trim().split('\n').pop()!) as { workers: number; platforms: number };
            expect(answer.workers, `${runtime} ${file}`).toBeGreaterThan(0);
            expect(answer.platforms, `${runtime} ${file}`).toBeGreaterThan(0);
          }
          const tsc = run('node', [path.join(repoRoot, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], path.join(ws, 'client'));
          expect(tsc.status, tsc.out).toBe(0);
        }, timeout);
      }
    });
  }
});

