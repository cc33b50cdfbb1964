/**
 * FileSync filtering scenarios: real Dockerfile builds with the built-in
 * `dockerfile.v0` frontend, which always sends include/exclude/followpaths
 * headers, served by our FileSyncProvider. Written with node:assert so the
 * same code runs under `bun test` and under Node.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  BuildkitClient, BuildkitError, buildImage, createPathFilter, FileSendProvider, FileSyncProvider, readDockerignore,
  type BuildSpec, type DiffCopyRequest, type RequestFilterFactory, type SyncedDir,
} from '../../plugin/buildkit/index';
import { runTargets } from '../../plugin/engine/index';
import { buildkitMinor } from '../support/buildkit-minor';
import { readTree, tempDir, writeTree, type TreeSpec } from '../support/files';
import type { Scenario, ScenarioContext } from './foundation';

const secret = 'OUTSIDE-THE-CONTEXT-SECRET';
const bigBytes = 2 * 1024 * 1024;

interface BuildSetup {
  /** The context tree (local `context`). */
  context: TreeSpec;
  /** The Dockerfile directory (local `dockerfile`): `Dockerfile` and maybe `Dockerfile.dockerignore`. */
  dockerfile: Record<string, string>;
  /** Client-side rules for the context directory. */
  filter?: SyncedDir['filter'];
  /** Replaces the provider's own handling of the daemon's headers. */
  requestFilter?: RequestFilterFactory;
  /** Files to create next to the context (never inside it). */
  outside?: Record<string, string>;
  /** Extra setup with the context directory's path (e.g. absolute symlinks). */
  prepare?: (dirs: { root: string; context: string }) => void;
}

interface BuildResult {
  /** The local export of the final stage, as readTree lists it; undefined when the build failed. */
  exported?: Record<string, string>;
  /** Every regular file's content in the export, by path. */
  contents: string[];
  error?: BuildkitError;
  sync: FileSyncProvider;
}

/** One `docker build`-like solve: dockerfile.v0, network none, local export through FileSend. */
async function dockerfileBuild(ctx: ScenarioContext, setup: BuildSetup): Promise<BuildResult> {
  using tmp = tempDir('nxbk-filesync-');
  const contextDir = path.join(tmp.dir, 'context');
  const dockerfileDir = path.join(tmp.dir, 'dockerfile');
  const exportDir = path.join(tmp.dir, 'export');
  fs.mkdirSync(contextDir);
  fs.mkdirSync(dockerfileDir);
  writeTree(contextDir, setup.context);
  writeTree(dockerfileDir, setup.dockerfile);
  for (const [name, content] of Object.entries(setup.outside ?? {})) fs.writeFileSync(path.join(tmp.dir, name), content);
  setup.prepare?.({ root: tmp.dir, context: contextDir });

  await using client = await BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });
  const sync = new FileSyncProvider(
    { context: { dir: contextDir, filter: setup.filter }, dockerfile: { dir: dockerfileDir } },
    setup.requestFilter,
  );
  const send = new FileSendProvider(new Map([[0, { kind: 'directory', dir: exportDir }]]));
  await using session = await client.openSession({ attachables: [sync, send] });
  try {
    await client.solve({
      session: session.id,
      frontend: 'dockerfile.v0',
      frontendAttrs: { filename: 'Dockerfile', 'force-network-mode': 'none' },
      exporters: [{ type: 'local', attrs: {} }],
    });
  } catch (err) {
    assert.ok(err instanceof BuildkitError, `a BuildkitError (${String(err)})`);
    return { contents: [], error: err, sync };
  }
  const exported = readTree(exportDir);
  const contents = Object.values(exported).filter((v) => v.startsWith('file '));
  return { exported, contents, sync };
}

const quote = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The daemon's error for a COPY source that names nothing in the context (`named`: the path
 * it names), one wording per generation: BuildKit 0.8 (Docker 20.10) words it differently
 * from 0.13 and 0.25. (Which path it names changed between 0.13 and 0.25; the split is at 0.14.)
 */
function notFound(minor: number, named: string): RegExp {
  if (minor >= 11) return new RegExp(`^solve: failed to compute cache key: failed to calculate checksum of ref [^:]+::[^:]+: "${quote(named)}": not found$`);
  return new RegExp(`^solve: failed to compute cache key: "${quote(named)}" not found: not found$`);
}

/** The entries of `tree` under `prefix/`, prefix included. */
function under(tree: Record<string, string>, prefix: string): Record<string, string> {
  return Object.fromEntries(Object.entries(tree).filter(([k]) => k === prefix || k.startsWith(`${prefix}/`)));
}

/** The stage that copies the whole context, checks it from a RUN, and hands it to a scratch stage for export. */
const copyAllDockerfile = (checks: string) => [
  'FROM nxbk-base AS build',
  'COPY . /all/',
  `RUN ${checks} && mkdir /seen && for f in /all/*; do test -f "$f" && cat "$f" >> /seen/files || true; done`,
  'FROM scratch',
  'COPY --from=build /all /all',
  'COPY --from=build /seen /seen',
  '',
].join('\n');

export const filesyncScenarios: Scenario[] = [
  {
    name: 'Dockerfile build: .dockerignore (with a ! re-include) applied, non-ASCII and spaced names intact, symlinks sent as links',
    perDaemon: true,
    async run(ctx) {
      const result = await dockerfileBuild(ctx, {
        context: {
          '.dockerignore': '# build outputs and deps\nnode_modules\n!node_modules/keep\n*.log\nsecret*\n/build\n**/*.tmp\n',
          'app/main.txt': 'main\n',
          'app/debug.log': 'nested logs stay: *.log is top-level only\n',
          'app/cache.tmp': 'tmp\n',
          'top.log': 'log\n',
          'secret.env': 'TOKEN=1\n',
          'build/out.bin': 'out\n',
          'node_modules/dep/index.js': 'dep\n',
          'node_modules/keep/keep.js': 'keep\n',
          'héllo wörld.txt': 'bonjour\n',
          'dir with space/naïve file.txt': 'naive\n',
          '😀 emoji.txt': 'emoji\n',
          '日本語/データ.txt': 'data\n',
          leak: { symlink: '../outside-secret.txt' },
        },
        outside: { 'outside-secret.txt': secret },
        dockerfile: {
          Dockerfile: copyAllDockerfile('test ! -e /all/secret.env && test ! -e /all/node_modules/dep && test -f /all/node_modules/keep/keep.js && test -f "/all/héllo wörld.txt"'),
        },
      });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(under(result.exported!, 'all'), {
        all: 'dir 755',
        'all/.dockerignore': 'file 644 # build outputs and deps\nnode_modules\n!node_modules/keep\n*.log\nsecret*\n/build\n**/*.tmp\n',
        'all/app': 'dir 755',
        'all/app/debug.log': 'file 644 nested logs stay: *.log is top-level only\n',
        'all/app/main.txt': 'file 644 main\n',
        'all/dir with space': 'dir 755',
        'all/dir with space/naïve file.txt': 'file 644 naive\n',
        'all/héllo wörld.txt': 'file 644 bonjour\n',
        'all/leak': 'link -> ../outside-secret.txt',
        'all/node_modules': 'dir 755',
        'all/node_modules/keep': 'dir 755',
        'all/node_modules/keep/keep.js': 'file 644 keep\n',
        'all/日本語': 'dir 755',
        'all/日本語/データ.txt': 'file 644 data\n',
        'all/😀 emoji.txt': 'file 644 emoji\n',
      });
      // A RUN step read every top-level (non-dot) file: the non-ASCII and spaced names too.
      assert.equal(result.exported!['seen/files'], 'file 644 bonjour\nemoji\n');
      assert.ok(!result.contents.some((c) => c.includes(secret)), 'nothing from outside the context was sent');
    },
  },
  {
    name: '<Dockerfile>.dockerignore next to the Dockerfile overrides the context .dockerignore',
    perDaemon: true,
    async run(ctx) {
      const result = await dockerfileBuild(ctx, {
        context: { '.dockerignore': 'node_modules\n', 'node_modules/dep.js': 'dep\n', 'app/main.txt': 'main\n', 'README.md': 'readme\n' },
        dockerfile: {
          Dockerfile: copyAllDockerfile('test -f /all/node_modules/dep.js && test ! -e /all/app'),
          'Dockerfile.dockerignore': 'app\n',
        },
      });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(Object.keys(under(result.exported!, 'all')).sort(), ['all', 'all/.dockerignore', 'all/README.md', 'all/node_modules', 'all/node_modules/dep.js']);
    },
  },
  {
    name: 'COPY of some paths transfers only those (followpaths through a symlink and a wildcard)',
    perDaemon: true,
    async run(ctx) {
      const result = await dockerfileBuild(ctx, {
        context: {
          'big.bin': randomBytes(bigBytes).toString('base64'),
          'releases/v1/app.txt': 'v1\n',
          'releases/v2/app.txt': 'v2\n',
          current: { symlink: 'releases/v2' },
          'config/a.conf': 'a\n',
          'config/b.conf': 'b\n',
          'config/c.txt': 'not a conf\n',
        },
        dockerfile: {
          Dockerfile: [
            'FROM nxbk-base AS build',
            'COPY current/app.txt /picked/app.txt',
            'COPY config/*.conf /picked/conf/',
            'RUN test "$(cat /picked/app.txt)" = v2',
            'FROM scratch',
            'COPY --from=build /picked /picked',
            '',
          ].join('\n'),
        },
      });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(result.exported, {
        picked: 'dir 755',
        'picked/app.txt': 'file 644 v2\n',
        'picked/conf': 'dir 755',
        'picked/conf/a.conf': 'file 644 a\n',
        'picked/conf/b.conf': 'file 644 b\n',
      });
      // The unreferenced 2 MiB file never left this machine.
      assert.ok(result.sync.counters.bytesSent < bigBytes, `sent ${result.sync.counters.bytesSent} bytes`);
    },
  },
  {
    name: 'COPY of non-ASCII and spaced paths: followpaths are decoded and the files arrive intact',
    perDaemon: true,
    async run(ctx) {
      const contextRequests: DiffCopyRequest[] = [];
      // Records what the daemon asked for the context, then applies the built-in fsutil semantics.
      const recording: RequestFilterFactory = (request, dir, signal) => {
        if (path.basename(dir.dir) === 'context') contextRequests.push(request);
        return createPathFilter(dir.dir, request, { signal });
      };
      const result = await dockerfileBuild(ctx, {
        context: { 'big.bin': randomBytes(bigBytes).toString('base64'), 'héllo wörld.txt': 'bonjour\n', 'dir with space/naïve.txt': 'naive\n', '😀.txt': 'emoji\n' },
        dockerfile: {
          Dockerfile: [
            'FROM nxbk-base AS build',
            'COPY ["héllo wörld.txt", "dir with space/naïve.txt", "😀.txt", "/picked/"]',
            'RUN test -f "/picked/naïve.txt"',
            'FROM scratch',
            'COPY --from=build /picked /picked',
            '',
          ].join('\n'),
        },
        requestFilter: recording,
      });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(result.exported, {
        picked: 'dir 755',
        'picked/héllo wörld.txt': 'file 644 bonjour\n',
        'picked/naïve.txt': 'file 644 naive\n',
        'picked/😀.txt': 'file 644 emoji\n',
      });
      // The frontend first fetches the context's .dockerignore alone, then the files it needs.
      const main = contextRequests.filter((r) => r.followPaths.join() !== '.dockerignore').at(-1);
      assert.ok(main, 'the context was transferred');
      await using client = await BuildkitClient.connect({ address: ctx.daemon.address });
      if ((await buildkitMinor(ctx.daemon, client)) >= 12) {
        // BuildKit ≥ 0.12 (0.13 and 0.25 here) query-escapes these headers: they must arrive
        // decoded, and only the files they name are sent.
        assert.deepEqual([...main.followPaths].sort(), ['dir with space/naïve.txt', 'héllo wörld.txt', '😀.txt'].sort());
        assert.ok(result.sync.counters.bytesSent < bigBytes, `sent ${result.sync.counters.bytesSent} bytes`);
      } else {
        // BuildKit 0.8 (Docker 20.10) sends non-ASCII header values raw, which gRPC drops: no
        // followpaths arrive, the whole context goes, the names still intact.
        assert.deepEqual(main.followPaths, [], 'no followpaths arrived');
        assert.ok(result.sync.counters.bytesSent >= bigBytes, 'without followpaths the whole context is sent');
      }
    },
  },
  {
    name: 'a symlink pointing outside the context resolves inside it: the COPY fails as not found, and nothing outside is read',
    perDaemon: true,
    async run(ctx) {
      // Links are sent as links, never followed (FileSyncProvider); the daemon resolves them
      // inside the context it received, where `../outside-secret.txt`, the absolute path and
      // `up/…` (up -> ..) name nothing. A large outside file: had it been sent, the byte count would show it.
      const outside = `${secret}\n${randomBytes(256 * 1024).toString('base64')}\n`;
      await using client = await BuildkitClient.connect({ address: ctx.daemon.address });
      const minor = await buildkitMinor(ctx.daemon, client);
      for (const source of ['leak', 'abs-leak', 'up/outside-secret.txt']) {
        let root = '';
        const result = await dockerfileBuild(ctx, {
          context: { leak: { symlink: '../outside-secret.txt' }, up: { symlink: '..' }, 'ok.txt': 'ok\n' },
          outside: { 'outside-secret.txt': outside },
          prepare: (dirs) => {
            root = dirs.root;
            fs.symlinkSync(path.join(root, 'outside-secret.txt'), path.join(dirs.context, 'abs-leak'));
          },
          dockerfile: {
            Dockerfile: ['FROM nxbk-base AS build', `COPY ${source} /out/`, 'RUN ! grep -r ' + secret + ' /out', 'FROM scratch', 'COPY --from=build /out /out', ''].join('\n'),
          },
        });
        assert.ok(result.error, `${source}: the build must fail, it exported ${JSON.stringify(result.exported)}`);
        // BuildKit before 0.25 (0.13, 0.8) names where a source that is itself a link leads inside
        // the context (the absolute link: its own path there); 0.25 names every source as written.
        const target = source === 'abs-leak' ? path.join(root, 'outside-secret.txt') : '/outside-secret.txt';
        const named = minor < 14 && source !== 'up/outside-secret.txt' ? target : `/${source}`;
        assert.match(result.error.message, notFound(minor, named), `${source} on BuildKit 0.${minor}`);
        assert.ok(!result.error.message.includes(secret), `${source}: the outside content is not in the error`);
        assert.ok(result.sync.counters.bytesSent < 1024, `${source}: at most the context's own small files were sent (${result.sync.counters.bytesSent} bytes)`);
      }
    },
  },
  {
    name: 'client-side excludes (SyncedDir.filter from readDockerignore) apply on top of the daemon\'s',
    perDaemon: true,
    async run(ctx) {
      const spec: TreeSpec = { '.dockerignore': 'node_modules\n', 'node_modules/dep.js': 'dep\n', 'client-only.txt': 'hidden by the client\n', 'app.txt': 'app\n' };
      using probe = tempDir();
      writeTree(probe.dir, spec);
      const { patterns } = await readDockerignore(probe.dir);
      assert.deepEqual(patterns, ['node_modules']);
      const result = await dockerfileBuild(ctx, {
        context: spec,
        filter: { excludePatterns: [...patterns, 'client-only.txt'] },
        dockerfile: { Dockerfile: copyAllDockerfile('test ! -e /all/client-only.txt && test -f /all/app.txt') },
      });
      assert.equal(result.error, undefined, result.error?.message);
      assert.deepEqual(Object.keys(under(result.exported!, 'all')).sort(), ['all', 'all/.dockerignore', 'all/app.txt']);
    },
  },
  {
    name: 'multi-MiB random files and hundreds of small ones arrive byte for byte',
    perDaemon: true,
    async run(ctx) {
      // Large enough for the daemon's flow-control estimator to raise its window while the content streams.
      const big = randomBytes(12 * 1024 * 1024 + 4321);
      const other = randomBytes(3 * 1024 * 1024);
      const context: TreeSpec = {};
      for (let i = 0; i < 300; i++) context[`small/${String(i).padStart(3, '0')}.txt`] = `${i}\n`;
      const result = await dockerfileBuild(ctx, {
        context,
        prepare: ({ context: dir }) => {
          fs.writeFileSync(path.join(dir, 'big.bin'), big);
          fs.writeFileSync(path.join(dir, 'other.bin'), other);
        },
        dockerfile: {
          Dockerfile: [
            'FROM nxbk-base AS build',
            'COPY . /ctx/',
            'RUN mkdir /out && cd /ctx && sha256sum big.bin other.bin > /out/sums && ls small | wc -l > /out/small',
            'FROM scratch',
            'COPY --from=build /out /out',
            '',
          ].join('\n'),
        },
      });
      assert.equal(result.error, undefined, result.error?.message);
      const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
      assert.equal(result.exported?.['out/sums'], `file 644 ${sha(big)}  big.bin\n${sha(other)}  other.bin\n`);
      assert.equal(result.exported?.['out/small']?.replace(/\s+/g, ' ').trim(), 'file 644 300');
      assert.ok(result.sync.counters.bytesSent >= big.length + other.length, `sent ${result.sync.counters.bytesSent} bytes`);
    },
  },
  {
    name: 'a non-ASCII .dockerignore line and COPY of a non-ASCII path: the ignored file stays out, the copied one arrives, and no filter header is lost (own session, shared, isolated)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir('nxbk-filesync-ascii-');
      const nonce = `${Date.now()}-${randomBytes(4).toString('hex')}`;
      const contextDir = path.join(tmp.dir, 'contexte é');
      writeTree(contextDir, {
        '.dockerignore': 'données/secret.txt\n*.log\n',
        'données/secret.txt': `${secret} ${nonce}\n`,
        'données/visible.txt': `visible ${nonce}\n`,
        'trace.log': 'log\n',
        'plain.txt': `plain ${nonce}\n`,
        Dockerfile: 'FROM scratch\nCOPY données /picked/\nCOPY . /all/\n',
      });
      const expected = {
        all: 'dir 755',
        'all/.dockerignore': 'file 644 données/secret.txt\n*.log\n',
        'all/Dockerfile': 'file 644 FROM scratch\nCOPY données /picked/\nCOPY . /all/\n',
        'all/données': 'dir 755',
        'all/données/visible.txt': `file 644 visible ${nonce}\n`,
        'all/plain.txt': `file 644 plain ${nonce}\n`,
        picked: 'dir 755',
        'picked/visible.txt': `file 644 visible ${nonce}\n`,
      };
      const spec = (name: string): BuildSpec => ({
        name, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false,
        outputs: [{ type: 'local', dest: path.join(tmp.dir, name) }],
      });
      // A filter header the daemon sends raw with non-ASCII characters is dropped by grpc-js, which says so in its log.
      const dropped: string[] = [];
      grpc.setLogger({ ...console, error: (...args: unknown[]) => { dropped.push(args.join(' ')); console.error(...args); } });
      try {
        await using client = await BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });
        await buildImage(client, spec('own'));
        const report = await runTargets(client, [
          { id: 'shared', spec: spec('shared'), dependsOn: [], contextPolicy: 'shared' },
          { id: 'isolated', spec: spec('isolated'), dependsOn: [], contextPolicy: 'isolated' },
        ], { concurrency: 2, mode: 'keep-going', sharedKey: `e2e-ascii-${nonce}`, retries: false });
        assert.deepEqual(report.outcomes.map((o) => [o.id, o.status, 'error' in o ? String(o.error) : '']), [['shared', 'succeeded', ''], ['isolated', 'succeeded', '']]);
      } finally {
        grpc.setLogger(console);
      }
      for (const name of ['own', 'shared', 'isolated']) assert.deepEqual(readTree(path.join(tmp.dir, name)), expected, name);
      const lost = dropped.filter((l) => /metadata entry (exclude-patterns|include-patterns|followpaths)/.test(l));
      assert.deepEqual(lost, [], 'the daemon was never handed a non-ASCII filter header it cannot pass');
    },
  },
];
