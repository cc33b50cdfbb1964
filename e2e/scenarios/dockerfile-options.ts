/**
 * Single-target Dockerfile builds through `buildImage`, option by option:
 * target stage, build args and labels, platforms, named contexts, no-cache,
 * registry and inline cache, and cache entries refused before any work.
 * Each engine's real behaviour is asserted: where a generation lacks a
 * feature, the clear error it gives (see the notes on each scenario).
 * Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import {
  BuildkitClient, BuildkitError, buildImage, ProgressTracker,
  type BuildResult, type BuildSpec, type VertexUpdate,
} from '../../plugin/buildkit/index';
import { e2eEnvironment, hasImageExporters, type E2eDaemon } from '../support/daemons';
import { readTree, tempDir, writeTree } from '../support/files';
import { skip } from '../support/skip';
import type { Scenario, ScenarioContext } from './foundation';
import { failure, printed } from '../support/expect-failure';

const connect = (daemon: E2eDaemon, transport: ScenarioContext['transport'] = 'grpc') =>
  BuildkitClient.connect({ address: daemon.address, sessionTransport: transport });
const nonce = () => crypto.randomUUID().slice(0, 12);


/** A build and the progress it reported. */
interface Built {
  result: BuildResult;
  progress: ProgressTracker;
}

async function build(client: BuildkitClient, spec: BuildSpec): Promise<Built> {
  const progress = new ProgressTracker();
  const result = await buildImage(client, spec, { onStatus: progress.update });
  return { result, progress };
}

/** A spec for the Dockerfile in `contextDir`: no network for RUN, anonymous registries. */
function specFor(name: string, contextDir: string, rest: Partial<BuildSpec> = {}): BuildSpec {
  return { name, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false, ...rest };
}

/** The one reported step whose name contains `text`. */
function step(progress: ProgressTracker, text: string): VertexUpdate {
  const found = progress.vertexes.filter((v) => v.name.includes(text));
  assert.equal(found.length, 1, `one step named like "${text}" among: ${progress.vertexes.map((v) => v.name).join(' | ')}`);
  return found[0]!;
}

/** A RUN line that writes 8 random bytes as hex to `file`; `tag` makes the step new to every daemon. */
const randomRun = (tag: string, file: string) => `RUN echo ${tag} && head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > ${file}`;

/** BuildKit before 0.11 has no Info RPC (Docker 20.10 ships 0.8). */
async function hasInfo(client: BuildkitClient): Promise<boolean> {
  return (await client.control.info()) !== undefined;
}

/** A daemon that can export cache and images (buildkitd, Docker's containerd image store), preferring `daemon` itself. */
function cacheExporter(daemon: E2eDaemon): E2eDaemon | undefined {
  if (hasImageExporters(daemon)) return daemon;
  return e2eEnvironment().daemons.find((d) => d.imageStore === 'containerd');
}

const engineSocket = (daemon: E2eDaemon) => daemon.address.replace(/^docker:\/\//, '');

/** `GET /images/<name>/json` on the engine. */
function inspectImage(daemon: E2eDaemon, name: string): { Architecture: string; Config: { Labels: Record<string, string> | null } } {
  const r = spawnSync('curl', ['-fsS', '--unix-socket', engineSocket(daemon), `http://d/images/${name}/json`], { encoding: 'utf8' });
  assert.equal(r.status, 0, `the engine has ${name}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The image config as the engine exports it (`GET /images/<name>/get`, the `docker save` tarball). */
function savedImageConfig(daemon: E2eDaemon, name: string, into: string): Record<string, unknown> {
  fs.mkdirSync(into, { recursive: true });
  const r = spawnSync('sh', ['-c', `curl -fsS --unix-socket "$0" "$1" | tar -x -C "$2"`, engineSocket(daemon), `http://d/images/${encodeURIComponent(name)}/get`, into], { encoding: 'utf8' });
  assert.equal(r.status, 0, `saving ${name}: ${r.stderr}`);
  const manifest = JSON.parse(fs.readFileSync(path.join(into, 'manifest.json'), 'utf8')) as Array<{ Config: string }>;
  return JSON.parse(fs.readFileSync(path.join(into, manifest[0]!.Config), 'utf8'));
}

/** The image config in an OCI layout tarball (index.json → manifest → config), as `oci` outputs write it. */
function ociTarConfig(file: string): { architecture: string; config: { Labels?: Record<string, string> | null } } {
  const read = (entry: string) => {
    const r = spawnSync('tar', ['-xOf', file, entry], { encoding: 'utf8' });
    assert.equal(r.status, 0, `${entry} in ${file}: ${r.stderr}`);
    return JSON.parse(r.stdout);
  };
  const blob = (digest: string) => read(`blobs/sha256/${digest.slice('sha256:'.length)}`);
  const index = read('index.json') as { manifests: Array<{ digest: string }> };
  const manifest = blob(index.manifests[0]!.digest) as { config: { digest: string } };
  return blob(manifest.config.digest);
}

/**
 * What an image built by `spec` has for architecture and labels: loaded into
 * a Docker engine and inspected there, or on buildkitd (no image store to load
 * into) exported as an OCI tarball and read from it.
 */
async function builtImage(client: BuildkitClient, daemon: E2eDaemon, spec: BuildSpec, name: string, dir: string): Promise<{ architecture: string; labels: Record<string, string> }> {
  if (daemon.kind === 'docker') {
    try {
      await build(client, { ...spec, outputs: [{ type: 'load', names: [name] }] });
      const image = inspectImage(daemon, name);
      return { architecture: image.Architecture, labels: image.Config.Labels ?? {} };
    } finally {
      deleteImage(daemon, name);
    }
  }
  const file = path.join(dir, `${spec.name}.oci.tar`);
  await build(client, { ...spec, outputs: [{ type: 'oci', dest: file, names: [name] }] });
  const config = ociTarConfig(file);
  return { architecture: config.architecture, labels: config.config.Labels ?? {} };
}

function deleteImage(daemon: E2eDaemon, name: string): void {
  spawnSync('curl', ['-fsS', '-X', 'DELETE', '--unix-socket', engineSocket(daemon), `http://d/images/${name}?force=true`]);
}

/** Whether a registry serves `repo:tag` (HEAD on the manifest). */
async function registryHas(registry: string, repo: string, tag: string): Promise<boolean> {
  const accept = [
    'application/vnd.oci.image.index.v1+json',
    'application/vnd.oci.image.manifest.v1+json',
    'application/vnd.docker.distribution.manifest.v2+json',
    'application/vnd.docker.distribution.manifest.list.v2+json',
  ].join(', ');
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers: { Accept: accept } });
  return res.ok;
}

/** A 64-byte ELF header for a big-endian 64-bit s390x executable: no x86 kernel runs it, and no command is needed to make it. */
function s390xElf(): Buffer {
  const elf = Buffer.alloc(64);
  Buffer.from([0x7f, 0x45, 0x4c, 0x46, 2, 2, 1]).copy(elf, 0); // magic, ELFCLASS64, big-endian, version 1
  elf.writeUInt16BE(2, 16); // ET_EXEC
  elf.writeUInt16BE(22, 18); // EM_S390
  elf.writeUInt32BE(1, 20);
  return elf;
}

/**
 * Cache import check shared by the registry and inline scenarios. The import
 * must be read; on BuildKit ≥ 0.11 the RUN step must come from it with the
 * value the exporting engine wrote. BuildKit 0.8's frontend emits different
 * LLB for the same Dockerfile than 0.13+ (so different cache keys, both
 * ways): there the step runs again (the one outcome accepted on it).
 */
async function assertImported(daemon: E2eDaemon, imported: Built, runStep: string, exported: string, actual: string): Promise<void> {
  const manifest = imported.progress.vertexes.find((v) => v.name.startsWith('importing cache manifest from'));
  assert.ok(manifest?.completed && !manifest.error, `the daemon read the cache manifest (${imported.progress.vertexes.map((v) => v.name).join(' | ')})`);
  await using client = await connect(daemon);
  const run = step(imported.progress, runStep);
  if (await hasInfo(client)) {
    assert.equal(run.cached, true, `the RUN step is cached on ${daemon.name}`);
    assert.equal(actual, exported, 'the output holds the value written on the exporting build');
  } else {
    // BuildKit 0.8 (Docker 20.10): it read the imported cache, but its keys differ, so the step runs again.
    assert.equal(run.cached, false, `the RUN step runs again on ${daemon.name}`);
    assert.notEqual(actual, exported, 'a new value');
  }
}

/**
 * A base image no daemon has built from before, pushed by `exporter` as
 * `<registry>/nxbk-e2e/cache-base:<tag>`: nxbk-base plus one layer of its own.
 *
 * BuildKit keys a `FROM` first by the registry manifest and, only when no
 * cache record answers that key, also by the layers' chain ID; the exported
 * cache links the next step to the keys the exporting daemon's `FROM` ended
 * with. A base whose layers the exporter also holds under another manifest
 * (nxbk-base is loaded into every engine by e2e/daemons/up.sh) may be linked
 * by its layers alone, and an importer whose cache answers the manifest key
 * never looks at the layers: the import would miss depending on what both
 * caches hold. A base new to both is keyed the same way by both.
 */
async function freshBase(exporter: E2eDaemon, registry: string, tag: string, dir: string): Promise<string> {
  const image = `${registry}/nxbk-e2e/cache-base:${tag}`;
  const contextDir = path.join(dir, 'base-ctx');
  writeTree(contextDir, { Dockerfile: `FROM ${registry}/nxbk-base:latest\nRUN echo ${tag} > /base-tag\n` });
  await using client = await connect(exporter);
  await build(client, specFor('cache-base', contextDir, { pull: true, outputs: [{ type: 'image', names: [image], push: true, insecure: true }] }));
  return image;
}

export const dockerfileOptionsScenarios: Scenario[] = [
  {
    name: 'target: a multi-stage build stops at the named stage and exports only its files',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, {
        'middle.txt': 'middle\n',
        Dockerfile: [
          'FROM nxbk-base AS builder',
          `RUN echo built-${tag} > /built.txt`,
          'FROM scratch AS middle',
          'COPY --from=builder /built.txt /middle/built.txt',
          'COPY middle.txt /middle/own.txt',
          'FROM nxbk-base AS final',
          'COPY --from=middle /middle /middle',
          `RUN echo "final stage ran ${tag}" && exit 3`,
          '',
        ].join('\n'),
      });
      await using client = await connect(ctx.daemon, ctx.transport);
      const out = path.join(tmp.dir, 'out');
      const { progress } = await build(client, specFor('target', contextDir, { target: 'middle', outputs: [{ type: 'local', dest: out }] }));
      const tree = readTree(out);
      assert.deepEqual(Object.keys(tree), ['middle', 'middle/built.txt', 'middle/own.txt'], 'only the middle stage\'s files');
      assert.equal(tree['middle/built.txt'], `file 644 built-${tag}\n`);
      assert.equal(tree['middle/own.txt'], 'file 644 middle\n');
      assert.ok(!progress.vertexes.some((v) => v.name.includes('final stage ran')), 'the final stage was not built');

      // Without a target the last stage is built: it fails, and the error quotes what it printed.
      const error = await failure(buildImage(client, specFor('no-target', contextDir, { outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out2') }] })));
      assert.match(printed(error), /^no-target: .*exit code: 3/);
      assert.ok(error.message.includes(`\n  final stage ran ${tag}`), `the step's output is quoted: ${error.message}`);
    },
  },
  {
    name: 'build args reach RUN steps and labels land in the image config',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, {
        Dockerfile: [
          'FROM nxbk-base',
          'ARG GREETING=default-greeting',
          'ARG UNSET=unset-default',
          `RUN echo "$GREETING/$UNSET ${tag}" > /args.txt`,
          'LABEL from.dockerfile=yes',
          '',
        ].join('\n'),
      });
      await using client = await connect(ctx.daemon, ctx.transport);
      const spec = specFor('args', contextDir, { buildArgs: { GREETING: `hello ${tag}` }, labels: { 'org.example.e2e': tag, 'org.example.empty': '' } });
      const out = path.join(tmp.dir, 'out');
      await build(client, { ...spec, outputs: [{ type: 'local', dest: out }] });
      assert.equal(fs.readFileSync(path.join(out, 'args.txt'), 'utf8'), `hello ${tag}/unset-default ${tag}\n`, 'the given arg replaced its default, the other kept it');

      // Labels need an image: loaded into the engine (buildkitd: an OCI tarball) and its config read.
      const { labels } = await builtImage(client, ctx.daemon, spec, `nxbk-e2e/options-labels-${ctx.daemon.name}:${tag}`, tmp.dir);
      assert.equal(labels['org.example.e2e'], tag);
      assert.equal(labels['org.example.empty'], '');
      assert.equal(labels['from.dockerfile'], 'yes', 'the Dockerfile\'s own LABEL is kept');
    },
  },
  {
    name: 'platforms: the native one runs, a foreign RUN fails with exec format error, a foreign COPY-only build succeeds',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      await using client = await connect(ctx.daemon, ctx.transport);
      const native = (await client.listWorkers())[0]!.platforms[0]!;
      if (native.os !== 'linux' || native.architecture !== 'amd64') {
        skip(`the scenario is written for an amd64 worker, ${ctx.daemon.name} is ${native.os}/${native.architecture}`);
      }
      const tag = nonce();
      const runDir = path.join(tmp.dir, 'run');
      writeTree(runDir, { Dockerfile: `FROM nxbk-base\nRUN echo ${tag} > /tag && uname -m > /arch\n` });
      const out = path.join(tmp.dir, 'out');
      await build(client, specFor('amd64', runDir, { platforms: ['linux/amd64'], outputs: [{ type: 'local', dest: out }] }));
      assert.equal(fs.readFileSync(path.join(out, 'arch'), 'utf8'), 'x86_64\n');

      // An s390x program: no emulator is registered on the builder host, so the kernel refuses it.
      const foreignDir = path.join(tmp.dir, 'foreign');
      writeTree(foreignDir, { Dockerfile: `FROM scratch\nCOPY sh /bin/sh\nRUN echo never ${tag} > /never\n` });
      fs.writeFileSync(path.join(foreignDir, 'sh'), s390xElf(), { mode: 0o755 });
      const error = await failure(buildImage(client, specFor('s390x', foreignDir, { platforms: ['linux/s390x'], outputs: [{ type: 'local', dest: path.join(tmp.dir, 'never') }] })));
      assert.ok(error instanceof BuildkitError);
      assert.match(printed(error), /^s390x: .*exit code: 1 \(exec format error: the builder cannot run programs built for linux\/s390x without emulation/);
      assert.match(error.message, /\n {2}exec \/bin\/sh: exec format error$/, 'the step\'s own output is quoted');
      assert.ok(!fs.existsSync(path.join(tmp.dir, 'never')), 'nothing was exported');

      // Nothing to execute: an arm64 image is assembled on an amd64 worker.
      const copyDir = path.join(tmp.dir, 'copy');
      writeTree(copyDir, { Dockerfile: 'FROM scratch\nCOPY hello.txt /hello.txt\n', 'hello.txt': `hello ${tag}\n` });
      const armOut = path.join(tmp.dir, 'arm-out');
      await build(client, specFor('arm64', copyDir, { platforms: ['linux/arm64'], outputs: [{ type: 'local', dest: armOut }] }));
      assert.deepEqual(readTree(armOut), { 'hello.txt': `file 644 hello ${tag}\n` });
      const arm = await builtImage(client, ctx.daemon, specFor('arm64', copyDir, { platforms: ['linux/arm64'] }), `nxbk-e2e/options-arm64-${ctx.daemon.name}:${tag}`, tmp.dir);
      assert.equal(arm.architecture, 'arm64', 'an arm64 image');

      // A base image only present for amd64, asked for s390x: the containerd store and buildkitd
      // (which reads it from its registry mirror) use it with a warning (and run its amd64 shell);
      // the classic store looks for an s390x variant in the registry.
      const baseFor = buildImage(client, specFor('base-s390x', runDir, { platforms: ['linux/s390x'], outputs: [{ type: 'local', dest: path.join(tmp.dir, 'base-out') }] }));
      if (ctx.daemon.imageStore === 'containerd' || ctx.daemon.kind === 'buildkitd') {
        const result = await baseFor;
        assert.ok(result.warnings.some((w) => /InvalidBaseImagePlatform/.test(w.short) && w.short.includes('linux/s390x')), `a platform warning (${result.warnings.map((w) => w.short).join('; ')})`);
      } else {
        assert.match(printed((await failure(baseFor))), /^base-s390x: .*registry-1\.docker\.io\/v2\/library\/nxbk-base\//);
      }
    },
  },
  {
    name: 'named contexts: docker-image:// and oci-layout:// through the Dockerfile frontend (or the engine\'s clear error)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const tag = nonce();
      await using client = await connect(ctx.daemon, ctx.transport);
      const imageDir = path.join(tmp.dir, 'image-ctx');
      writeTree(imageDir, {
        Dockerfile: `FROM base AS run\nRUN ls /bin/busybox > /ran-on-base.txt && echo ${tag} >> /ran-on-base.txt\nFROM scratch\nCOPY --from=run /ran-on-base.txt /ran.txt\nCOPY --from=base /bin/busybox /busybox\n`,
      });
      const out = path.join(tmp.dir, 'out');
      const started = Date.now();
      const imageBuild = buildImage(client, specFor('named-image', imageDir, {
        namedContexts: { base: { kind: 'image', ref: 'docker.io/library/nxbk-base:latest' } },
        outputs: [{ type: 'local', dest: out }],
      }));
      const supported = await imageBuild.then(() => true, async (error: Error) => {
        // Dockerfile frontends before 1.4 (BuildKit 0.8 in Docker 20.10) would pull "base" from Docker Hub.
        assert.ok(!(await hasInfo(client)), `only a BuildKit before 0.11 may refuse named contexts: ${error.message}`);
        assert.match(printed(error), /^named-image: named contexts \("base"\) need Dockerfile frontend 1\.4 or later/);
        assert.ok(Date.now() - started < 10_000, 'refused quickly');
        assert.ok(!fs.existsSync(out), 'nothing was exported');
        return false;
      });
      if (supported) {
        const tree = readTree(out);
        assert.equal(tree['ran.txt'], `file 644 /bin/busybox\n${tag}\n`, 'the RUN step ran on the named image');
        assert.match(tree['busybox'] ?? '', /^file 755 /, 'COPY --from=base read the named image');
      }

      // oci-layout://: a layout written by an engine with the containerd store's oci exporter.
      const exporter = cacheExporter(ctx.daemon);
      if (!exporter) {
        skip(`oci-layout part: no engine with an oci exporter (containerd image store) to write the layout for ${ctx.daemon.name}`);
      }
      const layout = path.join(tmp.dir, 'layout');
      const layoutSrc = path.join(tmp.dir, 'layout-src');
      writeTree(layoutSrc, { Dockerfile: `FROM nxbk-base\nRUN echo layout-${tag} > /layout.txt\n` });
      {
        await using exporterClient = await connect(exporter);
        await build(exporterClient, specFor('layout', layoutSrc, { outputs: [{ type: 'oci', dest: layout, tar: false, names: ['docker.io/library/nxbk-e2e-layout:v1'] }] }));
      }
      assert.ok(fs.existsSync(path.join(layout, 'index.json')), 'the layout was written');
      const layoutDir = path.join(tmp.dir, 'layout-ctx');
      writeTree(layoutDir, { Dockerfile: 'FROM scratch\nCOPY --from=lay /layout.txt /layout.txt\n' });
      const layoutSpec = (t: string) => specFor('named-layout', layoutDir, {
        namedContexts: { lay: { kind: 'oci-layout', dir: layout, tag: t } },
        outputs: [{ type: 'local', dest: path.join(tmp.dir, `layout-out-${t}`) }],
      });
      if (!supported) {
        assert.match(printed((await failure(buildImage(client, layoutSpec('v1'))))), /^named-layout: named contexts \("lay"\) need Dockerfile frontend 1\.4/);
        return;
      }
      const missingTag = await failure(buildImage(client, layoutSpec('nope')));
      assert.match(printed(missingTag), /^named-layout: named context "lay": no image tagged "nope" in .*index\.json/);
      const layoutBuild = buildImage(client, layoutSpec('v1'));
      if (ctx.daemon.imageStore === 'classic') {
        const error = await failure(layoutBuild);
        assert.match(printed(error), /^named-layout: this builder cannot read oci-layout:\/\/ named contexts \(it said: unknown scheme oci-layout\)/);
      } else {
        await layoutBuild;
        assert.equal(fs.readFileSync(path.join(tmp.dir, 'layout-out-v1', 'layout.txt'), 'utf8'), `layout-${tag}\n`);
      }
    },
  },
  {
    name: 'no-cache: an identical build is cached, noCache re-runs every step, noCache: [stage] only that stage',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, {
        Dockerfile: `FROM nxbk-base AS one\n${randomRun(tag, '/one')}\nFROM nxbk-base AS two\n${randomRun(tag, '/two')}\nFROM scratch\nCOPY --from=one /one /one\nCOPY --from=two /two /two\n`,
      });
      await using client = await connect(ctx.daemon, ctx.transport);
      let n = 0;
      const run = async (noCache?: BuildSpec['noCache']) => {
        const out = path.join(tmp.dir, `out-${n++}`);
        const { progress } = await build(client, specFor('no-cache', contextDir, { ...(noCache !== undefined ? { noCache } : {}), outputs: [{ type: 'local', dest: out }] }));
        const value = (f: string) => fs.readFileSync(path.join(out, f), 'utf8');
        return { one: value('one'), two: value('two'), oneCached: step(progress, '> /one').cached, twoCached: step(progress, '> /two').cached };
      };
      const first = await run();
      assert.match(first.one, /^[0-9a-f]{16}$/);
      assert.deepEqual([first.oneCached, first.twoCached], [false, false], 'a new build runs both steps');
      const again = await run();
      assert.deepEqual([again.oneCached, again.twoCached], [true, true], 'an identical build is cached');
      assert.deepEqual([again.one, again.two], [first.one, first.two]);
      const noCache = await run(true);
      assert.deepEqual([noCache.oneCached, noCache.twoCached], [false, false], 'noCache: true re-runs both');
      assert.notEqual(noCache.one, first.one);
      assert.notEqual(noCache.two, first.two);
      const onlyOne = await run(['one']);
      assert.deepEqual([onlyOne.oneCached, onlyOne.twoCached], [false, true], 'noCache: [one] re-runs only stage one');
      assert.equal(onlyOne.two, noCache.two, 'stage two kept the value of the last run');
      if (ctx.daemon.kind === 'buildkitd') {
        // BuildKit 0.32 (standalone buildkitd here; buildctl's --no-cache-filter does the same) runs
        // stage one's step again, but the final stage's COPY --from=one still copies the result that
        // step had before: the image keeps the old value. The engines' BuildKit (0.8–0.25) copies
        // the new one. The daemon decides; the client sends the same no-cache filter to both.
        assert.equal(onlyOne.one, noCache.one, 'buildkitd 0.32: the re-run stage\'s new output does not reach COPY --from');
      } else {
        assert.notEqual(onlyOne.one, noCache.one);
      }
    },
  },
  {
    name: 'RUN resources: shmSize sizes /dev/shm and ulimits set the open-files limit (BuildKit 0.8: a clear error)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, {
        Dockerfile: `FROM nxbk-base\nRUN echo ${tag} && df -k /dev/shm | tail -1 | awk '{print $2}' > /shm && ulimit -n > /nofile\n`,
      });
      await using client = await connect(ctx.daemon, ctx.transport);
      const out = path.join(tmp.dir, 'out');
      const built = buildImage(client, specFor('resources', contextDir, { shmSize: 96 * 1024 * 1024, ulimits: ['nofile=1234:1234'], outputs: [{ type: 'local', dest: out }] }));
      if (ctx.daemon.name === 'docker-20') {
        // BuildKit 0.8's Dockerfile frontend predates these attributes and would ignore them: refused, naming them.
        const error = await failure(built);
        assert.match(printed(error), /^resources: shmSize, ulimits need Dockerfile frontend 1\.4 or later \(BuildKit 0\.10, Docker Engine 23\.0\)/);
        return;
      }
      await built;
      assert.equal(fs.readFileSync(path.join(out, 'shm'), 'utf8').trim(), String(96 * 1024), '/dev/shm is 96 MiB');
      assert.equal(fs.readFileSync(path.join(out, 'nofile'), 'utf8').trim(), '1234', 'the open-files limit');
    },
  },
  {
    name: 'cgroupParent: RUN steps run under the named parent cgroup (per daemon: where it shows, or the clear error)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const tag = nonce();
      const parent = `nxbk-e2e-cg-${tag}`;
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, { Dockerfile: `FROM nxbk-base\nRUN echo ${tag} && cat /proc/self/cgroup > /cgroup\n` });
      await using client = await connect(ctx.daemon, ctx.transport);
      const out = path.join(tmp.dir, 'out');
      const built = buildImage(client, specFor('cgroup', contextDir, { cgroupParent: parent, outputs: [{ type: 'local', dest: out }] }));
      if (ctx.daemon.name === 'docker-20') {
        // BuildKit 0.8's Dockerfile frontend predates the attribute and would ignore it: refused, naming it.
        const error = await failure(built);
        assert.match(printed(error), /^cgroup: cgroupParent needs Dockerfile frontend 1\.4 or later \(BuildKit 0\.10, Docker Engine 23\.0\)/);
        return;
      }
      try {
        await built;
        // Every daemon here (engines 26 and 28 with runc and cgroupfs, buildkitd's OCI worker; no cgroup
        // namespace) puts the step in <parent>/buildkit/<id> of every hierarchy, seen whole from inside.
        const lines = fs.readFileSync(path.join(out, 'cgroup'), 'utf8').trim().split('\n');
        assert.ok(lines.length >= 1);
        for (const line of lines) assert.match(line, new RegExp(`^\\d+:[\\w,=]*:/${parent}/buildkit/[a-z0-9]+$`), `every hierarchy under the parent:\n${lines.join('\n')}`);
      } finally {
        // The daemon leaves the (empty) parent cgroups behind; they are this test's to remove (best effort: a remote daemon's are not here).
        for (const hierarchy of fs.existsSync('/sys/fs/cgroup') ? fs.readdirSync('/sys/fs/cgroup') : []) {
          for (const dir of [path.join('/sys/fs/cgroup', hierarchy, parent, 'buildkit'), path.join('/sys/fs/cgroup', hierarchy, parent)]) {
            try {
              fs.rmdirSync(dir); // cgroupfs removes an empty cgroup with rmdir (its control files go with it)
            } catch {
              // not there (another hierarchy layout, a remote daemon) or still in use
            }
          }
        }
      }
    },
  },
  {
    name: 'provenance and annotations: the pushed index holds an attestation manifest and the annotations (classic store: a clear error)',
    perDaemon: true,
    async run(ctx) {
      const registry = e2eEnvironment().registry;
      if (!registry) {
        console.log('skipped: no test registry');
        return;
      }
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, { Dockerfile: `FROM nxbk-base\nRUN echo ${tag} > /tag\n` });
      const repo = `nxbk-e2e/attest-${ctx.daemon.name}`;
      await using client = await connect(ctx.daemon, ctx.transport);
      const built = buildImage(client, specFor('attest', contextDir, {
        provenance: 'min',
        annotations: [{ level: 'manifest', key: 'org.example.note', value: `manifest-${tag}` }, { level: 'index', key: 'org.example.index-note', value: `index-${tag}` }],
        outputs: [{ type: 'image', names: [`${registry}/${repo}:${tag}`], push: true, insecure: true }],
      }));
      if (ctx.daemon.imageStore === 'classic') {
        const error = await failure(built);
        assert.match(printed(error), /^attest: a provenance attestation cannot be stored by a Docker engine with the classic image store.*containerd image store, or a standalone buildkitd/);
        return;
      }
      const result = await built;
      const get = async (ref: string) => {
        const res = await fetch(`http://${registry}/v2/${repo}/manifests/${ref}`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } });
        assert.equal(res.status, 200, `the registry serves ${repo}@${ref}`);
        return (await res.json()) as { mediaType: string; annotations?: Record<string, string>; manifests?: Array<{ digest: string; annotations?: Record<string, string> }> };
      };
      const index = await get(result.digest!);
      assert.equal(index.mediaType, 'application/vnd.oci.image.index.v1+json');
      assert.equal(index.annotations?.['org.example.index-note'], `index-${tag}`);
      const attestation = index.manifests?.find((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest');
      assert.ok(attestation, `an attestation manifest in the index: ${JSON.stringify(index.manifests)}`);
      const image = index.manifests!.find((m) => m !== attestation)!;
      assert.equal((await get(image.digest)).annotations?.['org.example.note'], `manifest-${tag}`);
    },
  },
  {
    name: 'sbom: a generator image from the test registry scans the built rootfs, and its SPDX document is in the pushed index (classic store: a clear error; an unresolvable generator: a clear error)',
    perDaemon: true,
    async run(ctx) {
      const registry = e2eEnvironment().registry;
      if (!registry) skip('no test registry (registry of e2e/daemons/up.sh)');
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, { Dockerfile: `FROM nxbk-base\nRUN echo ${tag} > /tag\n` });
      const repo = `nxbk-e2e/sbom-${ctx.daemon.name}`;
      const sbomSpec = (generator: string) => specFor('sbom', contextDir, {
        sbom: { generator },
        outputs: [{ type: 'image', names: [`${registry}/${repo}:${tag}`], push: true, insecure: true }],
      });
      await using client = await connect(ctx.daemon, ctx.transport);
      if (ctx.daemon.imageStore === 'classic') {
        const error = await failure(buildImage(client, sbomSpec(`${registry}/nxbk-e2e/sbom-generator:unused`)));
        assert.match(printed(error), /^sbom: an SBOM attestation \(option "sbom"\) cannot be stored by a Docker engine with the classic image store.*containerd image store, or a standalone buildkitd/);
        return;
      }
      const missing = `${registry}/nxbk-e2e/no-such-sbom-generator:${tag}`;
      const unresolved = await failure(buildImage(client, sbomSpec(missing)));
      assert.match(printed(unresolved), new RegExp(`^sbom: option "sbom": the SBOM generator image "${missing.replace(/[.]/g, '\\.')}" could not be resolved \\(it said: .*\\): .*generator`));

      // The daemon's Syft scanner cannot be pulled here, so the test makes a generator of its own that
      // follows BuildKit's SBOM scanner protocol: it reads the scanned rootfs ($BUILDKIT_SCAN_SOURCE)
      // and writes one in-toto SPDX statement, naming a package after the /tag file it found there.
      const generator = `${registry}/nxbk-e2e/sbom-generator:${tag}`;
      const generatorDir = path.join(tmp.dir, 'generator');
      writeTree(generatorDir, {
        Dockerfile: 'FROM nxbk-base\nCOPY scan.sh /scan.sh\nCMD ["/bin/sh", "/scan.sh"]\n',
        'scan.sh': [
          'set -e',
          'marker=$(cat "$BUILDKIT_SCAN_SOURCE/tag")',
          'out="$BUILDKIT_SCAN_DESTINATION/$(basename "$BUILDKIT_SCAN_SOURCE").spdx.json"',
          'printf \'{"_type":"https://in-toto.io/Statement/v0.1","predicateType":"https://spdx.dev/Document","subject":[],"predicate":{"spdxVersion":"SPDX-2.3","SPDXID":"SPDXRef-DOCUMENT","name":"nxbk-e2e","packages":[{"name":"scanned-%s","SPDXID":"SPDXRef-scanned"}]}}\' "$marker" > "$out"',
          '',
        ].join('\n'),
      });
      {
        await using exporterClient = await connect(cacheExporter(ctx.daemon)!);
        await buildImage(exporterClient, specFor('sbom-generator', generatorDir, { outputs: [{ type: 'image', names: [generator], push: true, insecure: true }] }));
      }
      const built = buildImage(client, sbomSpec(generator));
      if (ctx.daemon.kind === 'docker') {
        // The frontend runs the generator with the default (sandbox) network, which force-network-mode
        // does not cover, and the test engines run with --bridge=none (e2e/daemons/up.sh): the engine
        // resolved the generator and started it, then could not give it a network.
        const error = await failure(built);
        assert.match(printed(error), /^sbom: solve: process "\/bin\/sh \/scan\.sh" did not complete successfully: network bridge not found/);
        return;
      }
      const result = await built;
      type Manifest = { mediaType: string; manifests?: Array<{ digest: string; annotations?: Record<string, string> }>; layers?: Array<{ digest: string; annotations?: Record<string, string> }> };
      const get = async (ref: string): Promise<Manifest> => {
        const res = await fetch(`http://${registry}/v2/${repo}/manifests/${ref}`, { headers: { Accept: 'application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json' } });
        assert.equal(res.status, 200, `the registry serves ${repo}@${ref}`);
        return (await res.json()) as Manifest;
      };
      const index = await get(result.digest!);
      const attestation = index.manifests?.find((m) => m.annotations?.['vnd.docker.reference.type'] === 'attestation-manifest');
      assert.ok(attestation, `an attestation manifest in the index: ${JSON.stringify(index.manifests)}`);
      const layers = (await get(attestation.digest)).layers ?? [];
      const spdx = layers.find((l) => l.annotations?.['in-toto.io/predicate-type'] === 'https://spdx.dev/Document');
      assert.ok(spdx, `an SPDX layer in the attestation manifest: ${JSON.stringify(layers.map((l) => l.annotations))}`);
      const statement = (await (await fetch(`http://${registry}/v2/${repo}/blobs/${spdx.digest}`)).json()) as { predicate: { packages: Array<{ name: string }> } };
      assert.deepEqual(statement.predicate.packages.map((p) => p.name), [`scanned-${tag}`], 'the generator scanned this build\'s rootfs');
    },
  },
  {
    name: 'allow security.insecure on a builder that does not grant it: a clear error saying how to allow it',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, { Dockerfile: `FROM nxbk-base\nRUN echo ${nonce()} > /tag\n` });
      await using client = await connect(ctx.daemon, ctx.transport);
      const error = await failure(buildImage(client, specFor('entitled', contextDir, { entitlements: ['security.insecure'], outputs: [{ type: 'local', dest: path.join(tmp.dir, 'out') }] })));
      assert.match(printed(error), /^entitled: this builder does not allow the entitlement "security\.insecure" \(it said: .*\): start buildkitd with --allow-insecure-entitlement security\.insecure, or set "builder": \{ "Entitlements": \{ "security-insecure": true \} \}/);
    },
  },
  {
    name: 'registry cache: exported with mode=max, imported elsewhere the RUN step is cached with the same output (or the clear error)',
    perDaemon: true,
    async run(ctx) {
      const registry = e2eEnvironment().registry;
      if (!registry) skip('no test registry (registry of e2e/daemons/up.sh)');
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      const dockerfile = (base: string) => writeTree(contextDir, { Dockerfile: `FROM ${base}\n${randomRun(tag, '/random')}\n` });
      dockerfile(`${registry}/nxbk-base:latest`);
      const ref = `${registry}/nxbk-e2e/cache:${ctx.daemon.name}-${tag}`;
      const cacheTo = [{ type: 'registry' as const, attrs: { ref, mode: 'max', 'registry.insecure': 'true' } }];
      const cacheFrom = [{ type: 'registry' as const, attrs: { ref, 'registry.insecure': 'true' } }];
      // pull: the base is resolved from the registry, as on the exporting daemon.
      const spec = (out: string, rest: Partial<BuildSpec>) => specFor('registry-cache', contextDir, { pull: true, outputs: [{ type: 'local', dest: path.join(tmp.dir, out) }], ...rest });
      const random = (out: string) => fs.readFileSync(path.join(tmp.dir, out, 'random'), 'utf8');

      await using client = await connect(ctx.daemon, ctx.transport);
      if (ctx.daemon.imageStore === 'classic') {
        const error = await failure(buildImage(client, spec('refused', { cacheTo })));
        assert.ok(error instanceof BuildkitError && error.code === 'failed-precondition', error.message);
        assert.match(printed(error), /^registry-cache: this builder cannot export cache of type "registry" \(it said: unknown cache exporter: "registry"\): .*classic image store exports only "inline"/);
      }
      const exporter = cacheExporter(ctx.daemon);
      if (!exporter) {
        skip(`import part: no engine (containerd image store) can export a registry cache for ${ctx.daemon.name}`);
      }
      // The base comes from the registry and is new to both daemons (see freshBase).
      dockerfile(await freshBase(exporter, registry, `${ctx.daemon.name}-${tag}`, tmp.dir));
      {
        await using exporterClient = await connect(exporter);
        const exported = await build(exporterClient, spec('exported', { cacheTo }));
        assert.ok(step(exported.progress, 'exporting cache to registry').completed, 'the cache export ran');
      }
      assert.ok(await registryHas(registry, 'nxbk-e2e/cache', `${ctx.daemon.name}-${tag}`), 'the registry holds the cache manifest');
      assert.match(random('exported'), /^[0-9a-f]{16}$/);
      if (exporter === ctx.daemon) {
        // Forget this step's local result (only it: other tests share the daemon) so it must come from the registry.
        const removed = await client.control.prune({ all: true, filters: [`description~=${tag}`] });
        assert.ok(removed >= 1, 'the local result of the step was pruned');
      }
      const imported = await build(client, spec('imported', { cacheFrom, pull: true }));
      await assertImported(ctx.daemon, imported, '> /random', random('exported'), random('imported'));
    },
  },
  {
    name: 'inline cache: an image pushed with inline cache seeds another build (classic engines: inline export into a loaded image)',
    perDaemon: true,
    async run(ctx) {
      const registry = e2eEnvironment().registry;
      if (!registry) skip('no test registry (registry of e2e/daemons/up.sh)');
      using tmp = tempDir();
      const tag = nonce();
      const contextDir = path.join(tmp.dir, 'ctx');
      // pull: as in the registry cache scenario, the base is resolved from the registry.
      const spec = (rest: Partial<BuildSpec>) => specFor('inline-cache', contextDir, { pull: true, ...rest });
      const random = (out: string) => fs.readFileSync(path.join(tmp.dir, out, 'random'), 'utf8');
      await using client = await connect(ctx.daemon, ctx.transport);

      if (ctx.daemon.imageStore === 'classic') {
        // The classic store's moby exporter writes inline cache into the image config.
        // (Another step than the one imported below, which must not be in this engine's cache.)
        const loadDir = path.join(tmp.dir, 'load-ctx');
        writeTree(loadDir, { Dockerfile: `FROM ${registry}/nxbk-base:latest\n${randomRun(`inline-load-${tag}`, '/random')}\n` });
        const loaded = `nxbk-e2e/options-inline-${ctx.daemon.name}:${tag}`;
        try {
          await build(client, specFor('inline-load', loadDir, { cacheTo: [{ type: 'inline', attrs: {} }], outputs: [{ type: 'load', names: [loaded] }] }));
          const config = savedImageConfig(ctx.daemon, loaded, path.join(tmp.dir, 'saved'));
          assert.ok('moby.buildkit.cache.v0' in config, `the loaded image carries inline cache metadata (${Object.keys(config).join(', ')})`);
        } finally {
          deleteImage(ctx.daemon, loaded);
        }
      }
      const exporter = cacheExporter(ctx.daemon);
      if (!exporter) {
        skip(`import part: no engine (containerd image store) can push an image with inline cache for ${ctx.daemon.name}`);
      }
      // The base comes from the registry and is new to both daemons (see freshBase).
      const base = await freshBase(exporter, registry, `inline-${ctx.daemon.name}-${tag}`, tmp.dir);
      writeTree(contextDir, { Dockerfile: `FROM ${base}\n${randomRun(`inline-${tag}`, '/random')}\n` });
      const repo = `nxbk-e2e/inline-${ctx.daemon.name}`;
      const image = `${registry}/${repo}:${tag}`;
      {
        await using exporterClient = await connect(exporter);
        await build(exporterClient, spec({
          cacheTo: [{ type: 'inline', attrs: {} }],
          outputs: [{ type: 'image', names: [image], push: true, insecure: true }, { type: 'local', dest: path.join(tmp.dir, 'exported') }],
        }));
      }
      assert.ok(await registryHas(registry, repo, tag), 'the image was pushed');
      if (exporter === ctx.daemon) {
        const removed = await client.control.prune({ all: true, filters: [`description~=inline-${tag}`] });
        assert.ok(removed >= 1, 'the local result of the step was pruned');
      }
      const imported = await build(client, spec({
        pull: true,
        cacheFrom: [{ type: 'registry', attrs: { ref: image, 'registry.insecure': 'true' } }],
        outputs: [{ type: 'local', dest: path.join(tmp.dir, 'imported') }],
      }));
      await assertImported(ctx.daemon, imported, '> /random', random('exported'), random('imported'));
    },
  },
  {
    name: 'an invalid cache entry is refused before any session or solve, in well under a second',
    perDaemon: false,
    async run(ctx) {
      using tmp = tempDir();
      await using client = await connect(ctx.daemon, ctx.transport);
      const calls: string[] = [];
      const openSession = client.openSession.bind(client);
      const solve = client.solve.bind(client);
      client.openSession = (...args) => (calls.push('openSession'), openSession(...args));
      client.solve = (...args) => (calls.push('solve'), solve(...args));
      const started = performance.now();
      const error = await failure(buildImage(client, {
        name: 'invalid-cache',
        // Neither read nor probed: the cache entries are checked first.
        contextDir: path.join(tmp.dir, 'does-not-exist'),
        dockerfile: path.join(tmp.dir, 'does-not-exist', 'Dockerfile'),
        namedContexts: { base: { kind: 'image', ref: 'docker.io/library/nxbk-base:latest' } },
        cacheFrom: [{ type: 'registry', attrs: { ref: '127.0.0.1:5000/nxbk-e2e/cache:x' } }],
        cacheTo: [{ type: 'registry', attrs: { mode: 'max' } }],
      }));
      const ms = performance.now() - started;
      assert.ok(error instanceof BuildkitError, 'a BuildkitError');
      assert.equal(error.code, 'invalid-argument');
      assert.equal(printed(error), 'invalid-cache: cacheTo[0] (type=registry): missing attribute "ref"');
      assert.ok(ms < 1_000, `refused in ${ms.toFixed(1)} ms`);
      assert.deepEqual(calls, [], 'no session was opened and nothing was solved');
    },
  },
];
