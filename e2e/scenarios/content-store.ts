/**
 * Session content store scenarios: the daemon reading and writing OCI
 * layouts on this machine through our containerd Content service — local
 * cache export and import, the `oci` exporter with `tar=false`, and
 * `oci-layout://` sources. Engines with Docker's classic image store lack
 * all three (their BuildKit registers neither the `local` cache exporter,
 * nor the `oci` exporter, nor the `oci-layout` source), so there the
 * scenarios assert the daemon's own clear errors instead.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import {
  BuildkitClient, BuildkitError, ContentStoreProvider, FileSendProvider, FileSyncProvider, marshal, OciLayoutStore,
  ProgressTracker, putInOciIndex, readOciIndex, resolveLocalCacheImport, State, storeIds, writeLocalCacheIndex,
  writeOciLayoutIndex, type OciDescriptor, type Platform, type SolveResponse,
} from '../../plugin/buildkit/index';
import { daemonsHome, e2eEnvironment, type E2eDaemon } from '../support/daemons';
import { tempDir } from '../support/files';
import { skip } from '../support/skip';
import type { Scenario, ScenarioContext } from './foundation';
import { failure } from '../support/expect-failure';

const connect = (daemon: E2eDaemon, transport: 'grpc' | 'docker') => BuildkitClient.connect({ address: daemon.address, sessionTransport: transport });

/** Docker's classic image store has no local cache export, oci exporter or oci-layout source (protocol doc §8.2). */
const hasStoreFeatures = (daemon: E2eDaemon) => daemon.imageStore !== 'classic';


/**
 * The busybox root filesystem as a directory, sent with FileSync. A `run`
 * step on it has the same cache key on every engine (local sources are keyed
 * by content), whereas an image source is keyed differently by the classic
 * and the containerd image stores, so image-based steps never match a cache
 * exported by the other kind.
 */
function extractRootfs(into: string): string {
  const tarball = process.env.NXBK_BASE_ROOTFS ?? path.join(daemonsHome(), 'base-rootfs.tar');
  const dir = path.join(into, 'rootfs');
  fs.mkdirSync(dir);
  const r = spawnSync('tar', ['-xf', tarball, '-C', dir]);
  assert.equal(r.status, 0, `extracting ${tarball}: ${r.stderr}`);
  return dir;
}

/** A run step (network none) that writes 16 random bytes as hex to /random; `nonce` makes it new to every daemon. */
function randomStep(nonce: string): { graph: State; stepName: string } {
  const stepName = `write random ${nonce}`;
  const rootfs = State.scratch().copy(State.local('rootfs'), '/', '/', { copyDirContents: true });
  const ran = rootfs.run({
    args: ['sh', '-c', `echo ${nonce} > /nonce && head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /random`],
    network: 'none',
    customName: stepName,
  });
  return { graph: State.scratch().copy(ran, '/random', '/random'), stepName };
}

interface RandomRun {
  random: string;
  progress: ProgressTracker;
  response: SolveResponse;
}

/** Solve the random step with the given cache options; the output's /random is returned. */
async function runRandom(
  daemon: E2eDaemon, transport: 'grpc' | 'docker', root: string, nonce: string, rootfs: string,
  cache: { exportTo?: string; importFrom?: { src: string; digest: string } },
): Promise<RandomRun> {
  await using client = await connect(daemon, transport);
  const out = fs.mkdtempSync(path.join(root, 'out-'));
  const cacheDir = cache.exportTo ?? cache.importFrom!.src;
  await using session = await client.openSession({
    attachables: [
      new FileSyncProvider({ rootfs: { dir: rootfs } }),
      new FileSendProvider(new Map([[0, { kind: 'directory', dir: out }]])),
      new ContentStoreProvider({ [storeIds.localCache(cacheDir)]: cacheDir }),
    ],
  });
  const progress = new ProgressTracker();
  const response = await client.solve(
    {
      session: session.id,
      definition: marshal(randomStep(nonce).graph),
      exporters: [{ type: 'local', attrs: {} }],
      ...(cache.exportTo ? { cacheExports: [{ type: 'local', attrs: { dest: cache.exportTo, mode: 'max' } }] } : {}),
      ...(cache.importFrom ? { cacheImports: [{ type: 'local', attrs: { src: cache.importFrom.src, digest: cache.importFrom.digest } }] } : {}),
    },
    { onStatus: progress.update },
  );
  const random = fs.readFileSync(path.join(out, 'random'), 'utf8');
  assert.match(random, /^[0-9a-f]{32}$/, 'the step wrote 16 random bytes');
  return { random, progress, response };
}

/** Every blob a descriptor names is in the layout, with the right size and hash. */
function assertBlob(layout: string, d: Pick<OciDescriptor, 'digest' | 'size'>): Buffer {
  const file = path.join(layout, 'blobs', ...d.digest.split(':'));
  assert.ok(fs.existsSync(file), `blob ${d.digest} is in ${layout}`);
  const data = fs.readFileSync(file);
  assert.equal(data.length, d.size, `blob ${d.digest} has its size`);
  assert.equal(`sha256:${crypto.createHash('sha256').update(data).digest('hex')}`, d.digest, `blob ${d.digest} has its content`);
  return data;
}

/** No unfinished writes left behind in a layout. */
function assertNoIngest(layout: string): void {
  const ingest = path.join(layout, 'ingest');
  assert.deepEqual(fs.existsSync(ingest) ? fs.readdirSync(ingest) : [], [], 'no unfinished write left in ingest/');
}

/** A minimal ustar archive (regular files only) for a hand-made image layer. */
function tarOf(files: Record<string, Buffer>): Buffer {
  const blocks: Buffer[] = [];
  for (const [name, data] of Object.entries(files)) {
    const header = Buffer.alloc(512);
    const field = (value: string, offset: number, length: number) => header.write(value, offset, length, 'ascii');
    const octal = (n: number, offset: number, length: number) => field(n.toString(8).padStart(length - 1, '0'), offset, length - 1);
    field(name, 0, 100);
    octal(0o644, 100, 8);
    octal(0, 108, 8);
    octal(0, 116, 8);
    octal(data.length, 124, 12);
    octal(0, 136, 12);
    field('        ', 148, 8); // checksum counts as spaces while it is computed
    field('0', 156, 1);
    field('ustar\u000000', 257, 8);
    let sum = 0;
    for (const byte of header) sum += byte;
    field(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8);
    blocks.push(header, data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  blocks.push(Buffer.alloc(1024));
  return Buffer.concat(blocks);
}

/** Write a one-layer image into an OCI layout with our store; returns the manifest descriptor. */
async function writeLayoutImage(dir: string, platform: Platform, files: Record<string, Buffer>): Promise<OciDescriptor> {
  const store = new OciLayoutStore(dir);
  const layer = tarOf(files);
  const layerInfo = await store.writeBlob(layer);
  const config = Buffer.from(JSON.stringify({
    architecture: platform.architecture, os: platform.os,
    rootfs: { type: 'layers', diff_ids: [layerInfo.digest] }, config: {},
  }));
  const configInfo = await store.writeBlob(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configInfo.digest, size: configInfo.size },
    layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: layerInfo.digest, size: layerInfo.size }],
  }));
  const manifestInfo = await store.writeBlob(manifest);
  const descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: manifestInfo.digest, size: manifestInfo.size };
  await putInOciIndex(dir, descriptor, [{ tag: 'latest' }]);
  return descriptor;
}

export const contentStoreScenarios: Scenario[] = [
  {
    name: 'local cache export writes verified blobs and a tagged index.json (or the classic store\'s clear error)',
    perDaemon: true,
    async run(ctx: ScenarioContext) {
      using tmp = tempDir();
      const rootfs = extractRootfs(tmp.dir);
      const dest = path.join(tmp.dir, 'cache');
      const nonce = crypto.randomUUID();
      if (!hasStoreFeatures(ctx.daemon)) {
        const error = await failure(runRandom(ctx.daemon, ctx.transport, tmp.dir, nonce, rootfs, { exportTo: dest }));
        assert.ok(error instanceof BuildkitError, 'a BuildkitError');
        assert.match(error.message, /unknown cache exporter: "local"/);
        return;
      }
      const { response } = await runRandom(ctx.daemon, ctx.transport, tmp.dir, nonce, rootfs, { exportTo: dest });
      const cacheManifest = response.exporterResponse['cache.manifest'];
      assert.ok(cacheManifest, `cache.manifest in the response (${Object.keys(response.exporterResponse).join(', ')})`);
      const written = await writeLocalCacheIndex(dest, cacheManifest);

      const index = await readOciIndex(dest);
      assert.deepEqual(index.manifests.map((m) => [m.digest, m.annotations?.['org.opencontainers.image.ref.name']]), [[written.digest, 'latest']]);
      assert.equal(await resolveLocalCacheImport(dest), written.digest);
      // Newer BuildKit writes an image manifest (config + layers), older (0.13) an index
      // whose entries are the layers and the cache config.
      const manifest = JSON.parse(assertBlob(dest, written).toString('utf8')) as { config?: OciDescriptor; layers?: OciDescriptor[]; manifests?: OciDescriptor[] };
      const blobs = [...(manifest.config ? [manifest.config] : []), ...(manifest.layers ?? []), ...(manifest.manifests ?? [])];
      assert.ok(blobs.length >= 3, `the cache config, the rootfs copy and the run step are exported (mode=max), got ${blobs.length} blobs`);
      for (const blob of blobs) assertBlob(dest, blob);
      assertNoIngest(dest);
    },
  },
  {
    name: 'local cache import: a run step exported by another engine (or this one, its result pruned) is cached here, with the same random value',
    perDaemon: true,
    async run(ctx: ScenarioContext) {
      // Another engine exports when there is one; else this one, and the step's own result is
      // pruned before the import (importing what is still in its cache would prove nothing).
      const exporter = e2eEnvironment().daemons.find((d) => d.name !== ctx.daemon.name && hasStoreFeatures(d)) ?? (hasStoreFeatures(ctx.daemon) ? ctx.daemon : undefined);
      if (!exporter) skip(`no engine with local cache export (containerd image store) to import from on ${ctx.daemon.name}`);
      using tmp = tempDir();
      const rootfs = extractRootfs(tmp.dir);
      const dest = path.join(tmp.dir, 'cache');
      const nonce = crypto.randomUUID();
      const first = await runRandom(exporter, 'grpc', tmp.dir, nonce, rootfs, { exportTo: dest });
      await writeLocalCacheIndex(dest, first.response.exporterResponse['cache.manifest']!);
      await using client = await connect(ctx.daemon, ctx.transport);
      if (exporter === ctx.daemon) {
        // Only this step's records: other tests share the daemon.
        const removed = await client.control.prune({ all: true, filters: [`description~=${nonce}`] });
        assert.ok(removed >= 1, 'the local result of the step was pruned');
      }

      const digest = await resolveLocalCacheImport(dest);
      const second = await runRandom(ctx.daemon, ctx.transport, tmp.dir, nonce, rootfs, { importFrom: { src: dest, digest } });
      const { stepName } = randomStep(nonce);
      const step = second.progress.vertexes.find((v) => v.name === stepName);
      assert.ok(step, `the run step is reported (${second.progress.vertexes.map((v) => v.name).join(', ')})`);
      const imported = second.progress.vertexes.find((v) => v.name.startsWith('importing cache manifest from local:'));
      assert.ok(imported?.completed && !imported.error, 'the daemon read the cache manifest through our content store');
      assert.deepEqual(second.progress.failed.map((v) => v.name), []);

      if (!(await client.control.info())) {
        // BuildKit 0.8 (Docker 20.10; no Info RPC) reads the cache but keys run steps
        // differently from the exporting engine: the step runs again, with a new value.
        assert.equal(step.cached, false, `the run step runs again on ${ctx.daemon.name}`);
        assert.notEqual(second.random, first.random, 'a new random value');
        return;
      }
      assert.equal(step.cached, true, `the run step is cached on ${ctx.daemon.name}`);
      assert.equal(second.random, first.random, 'the output holds the value written on the exporting engine');
    },
  },
  {
    name: 'oci exporter with tar=false writes the image into a layout directory through the content store (or the classic store\'s clear error)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const layout = path.join(tmp.dir, 'layout');
      const nonce = crypto.randomUUID();
      await using client = await connect(ctx.daemon, ctx.transport);
      // No FileSend provider: with tar=false the daemon must not use it.
      await using session = await client.openSession({ attachables: [new ContentStoreProvider({ [storeIds.export]: layout })] });
      const graph = State.image('docker.io/library/nxbk-base:latest').mkfile('/nonce.txt', `${nonce}\n`);
      const solve = client.solve({
        session: session.id,
        definition: marshal(graph),
        exporters: [{ type: 'oci', attrs: { tar: 'false', name: 'docker.io/library/nxbk-oci-layout:e2e' } }],
      });
      if (!hasStoreFeatures(ctx.daemon)) {
        const error = await failure(solve);
        assert.match(error.message, /exporter "oci" could not be found/);
        return;
      }
      const response = await solve;
      const descriptor = await writeOciLayoutIndex(layout, response.exporterResponse);
      const entry = (await readOciIndex(layout)).manifests.find((m) => m.annotations?.['org.opencontainers.image.ref.name'] === 'e2e');
      assert.ok(entry, 'index.json names the image by its tag');
      assert.equal(entry.digest, descriptor.digest);
      assert.equal(entry.annotations?.['io.containerd.image.name'], 'docker.io/library/nxbk-oci-layout:e2e');
      assert.equal(entry.digest, response.exporterResponse['containerimage.digest']);
      const manifest = JSON.parse(assertBlob(layout, entry).toString('utf8')) as { config: OciDescriptor; layers: OciDescriptor[] };
      assert.equal(manifest.config.digest, response.exporterResponse['containerimage.config.digest'], 'the manifest names the config of the response');
      assertBlob(layout, manifest.config);
      for (const layer of manifest.layers) assertBlob(layout, layer);
      const top = manifest.layers.at(-1)!;
      const tar = top.mediaType.endsWith('gzip') ? zlib.gunzipSync(assertBlob(layout, top)) : assertBlob(layout, top);
      assert.ok(tar.includes(`${nonce}\n`), 'the last layer holds the file the build wrote');
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(layout, 'oci-layout'), 'utf8')), { imageLayoutVersion: '1.0.0' });
      assertNoIngest(layout);
    },
  },
  {
    name: 'oci-layout source: a build reads an image from a layout we serve as oci:<store> (or the classic store\'s clear error)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const layout = path.join(tmp.dir, 'layout');
      const out = path.join(tmp.dir, 'out');
      await using client = await connect(ctx.daemon, ctx.transport);
      const platform = (await client.listWorkers())[0]!.platforms[0]!;
      const greeting = `hello from an OCI layout ${crypto.randomUUID()}\n`;
      // Over a megabyte, so the daemon reads it in many chunks.
      const big = crypto.randomBytes(1536 * 1024 + 7);
      const manifest = await writeLayoutImage(layout, platform, { 'greeting/hello.txt': Buffer.from(greeting), 'greeting/big.bin': big });
      const storeId = 'e2e-layout';
      await using session = await client.openSession({
        attachables: [
          new ContentStoreProvider({ [storeIds.ociLayout(storeId)]: layout }),
          new FileSendProvider(new Map([[0, { kind: 'directory', dir: out }]])),
        ],
      });
      const from = (store: string) => State.ociLayout(`docker.io/library/nxbk-layout@${manifest.digest}`, { sessionId: session.id, storeId: store, platform });
      const build = (store: string) => client.solve({
        session: session.id,
        definition: marshal(State.scratch().copy(from(store), '/greeting', '/', { copyDirContents: true })),
        exporters: [{ type: 'local', attrs: {} }],
      });
      if (!hasStoreFeatures(ctx.daemon)) {
        const error = await failure(build(storeId));
        assert.match(error.message, /unknown schem[ea] oci-layout/);
        return;
      }
      // A store the session does not serve is refused, and the daemon says so. (First: once
      // the image is resolved, the daemon reuses that by reference and never asks again.)
      const error = await failure(build('not-served'));
      assert.match(error.message, /unknown store oci:not-served/);

      await build(storeId);
      assert.equal(fs.readFileSync(path.join(out, 'hello.txt'), 'utf8'), greeting);
      assert.ok(fs.readFileSync(path.join(out, 'big.bin')).equals(big), 'the large file arrived intact');
    },
  },
];
