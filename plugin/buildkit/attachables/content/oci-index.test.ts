import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { resolveLocalCacheImport, writeLocalCacheIndex } from './local-cache';
import { findByTag, ociRefName, putInOciIndex, readOciIndex, type OciDescriptor, type OciIndex } from './oci-index';
import { writeOciLayoutIndex } from './oci-layout-index';
import { OciLayoutStore } from './oci-layout-store';

let dir: string;
beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-index-'))));
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const manifestType = 'application/vnd.oci.image.manifest.v1+json';
const errorOf = (p: Promise<unknown>) => p.then(() => { throw new Error('expected a failure'); }, (e: BuildkitError) => e);

async function blob(text: string): Promise<OciDescriptor> {
  const info = await new OciLayoutStore(dir).writeBlob(Buffer.from(text));
  return { mediaType: manifestType, digest: info.digest, size: info.size };
}

describe('index.json helpers', () => {
  test('putInOciIndex writes a valid layout, and a name moves to the newest descriptor', async () => {
    const one = await blob('one');
    const two = await blob('two');
    await putInOciIndex(dir, one, [{ tag: 'latest' }]);
    await putInOciIndex(dir, two, [{ tag: 'v2' }]);
    await putInOciIndex(dir, two, [{ tag: 'latest' }]);
    const index = await readOciIndex(dir);
    expect(index.schemaVersion).toBe(2);
    expect(index.mediaType).toBe('application/vnd.oci.image.index.v1+json');
    expect(index.manifests.map((m) => [m.digest, m.annotations?.['org.opencontainers.image.ref.name']])).toEqual([
      [two.digest, 'v2'],
      [two.digest, 'latest'],
    ]);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(fs.readdirSync(dir).filter((f) => f.includes('index.json'))).toEqual(['index.json']); // no lock or temp file left
  });

  test('concurrent puts are serialised: none is lost', async () => {
    const descriptors = await Promise.all(['a', 'b', 'c', 'd', 'e', 'f'].map(blob));
    await Promise.all(descriptors.map((d, i) => putInOciIndex(dir, d, [{ tag: `t${i}` }])));
    expect((await readOciIndex(dir)).manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).sort()).toEqual(['t0', 't1', 't2', 't3', 't4', 't5']);
  });

  test('findByTag prefers the image name annotation, then the OCI ref name', () => {
    const index: OciIndex = {
      schemaVersion: 2,
      manifests: [
        { mediaType: manifestType, digest: 'sha256:1', size: 1, annotations: { 'org.opencontainers.image.ref.name': 'x' } },
        { mediaType: manifestType, digest: 'sha256:2', size: 1, annotations: { 'io.containerd.image.name': 'x' } },
      ],
    };
    expect(findByTag(index, 'x')?.digest).toBe('sha256:2');
    expect(findByTag(index, 'y')).toBeUndefined();
  });

  test('ociRefName keeps the tag of a full image name', () => {
    expect(ociRefName('docker.io/library/app:1.2')).toBe('1.2');
    expect(ociRefName('127.0.0.1:5000/team/app:dev')).toBe('dev');
    expect(ociRefName('registry.example/app@sha256:abc')).toBe('@sha256:abc');
    expect(ociRefName('plain')).toBe('plain');
  });
});

describe('local cache helpers', () => {
  test('writeLocalCacheIndex then resolveLocalCacheImport round-trips the cache manifest digest', async () => {
    const manifest = await blob('{"cache":"manifest"}');
    await writeLocalCacheIndex(dir, JSON.stringify({ ...manifest, mediaType: 'application/vnd.oci.image.index.v1+json' }));
    expect(await resolveLocalCacheImport(dir)).toBe(manifest.digest);
    const other = await blob('{"cache":"other"}');
    await writeLocalCacheIndex(dir, JSON.stringify(other), 'branch-x');
    expect(await resolveLocalCacheImport(dir, 'branch-x')).toBe(other.digest);
    expect(await resolveLocalCacheImport(dir)).toBe(manifest.digest);
    const missing = await errorOf(resolveLocalCacheImport(dir, 'nope'));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toContain('no manifest tagged "nope" (tags: latest, branch-x)');
  });

  test('an index with one untagged manifest resolves whatever the tag', async () => {
    const only = await blob('only');
    await putInOciIndex(dir, only, []);
    expect(await resolveLocalCacheImport(dir, 'anything')).toBe(only.digest);
  });

  test('a missing directory, index or blob is a clear not-found', async () => {
    expect((await errorOf(resolveLocalCacheImport(path.join(dir, 'absent')))).code).toBe('not-found');
    await putInOciIndex(dir, { mediaType: manifestType, digest: `sha256:${'0'.repeat(64)}`, size: 3 }, [{ tag: 'latest' }]);
    const err = await errorOf(resolveLocalCacheImport(dir));
    expect(err.code).toBe('not-found');
    expect(err.message).toContain('manifest of "latest" is missing');
  });

  test('a malformed cache.manifest is a protocol error', async () => {
    expect((await errorOf(writeLocalCacheIndex(dir, 'not json'))).code).toBe('protocol');
    expect((await errorOf(writeLocalCacheIndex(dir, '{"digest":1}'))).code).toBe('protocol');
  });
});

describe('writeOciLayoutIndex', () => {
  const descriptorOf = (d: OciDescriptor) => Buffer.from(JSON.stringify(d)).toString('base64');

  test('names the exported image by every image.name, or latest', async () => {
    const image = await blob('{"manifest":1}');
    await writeOciLayoutIndex(dir, { 'containerimage.descriptor': descriptorOf(image), 'image.name': 'docker.io/library/app:1,docker.io/library/app:latest' });
    const index = await readOciIndex(dir);
    expect(index.manifests.map((m) => m.annotations)).toEqual([
      { 'io.containerd.image.name': 'docker.io/library/app:1', 'org.opencontainers.image.ref.name': '1' },
      { 'io.containerd.image.name': 'docker.io/library/app:latest', 'org.opencontainers.image.ref.name': 'latest' },
    ]);
    const plain = path.join(dir, 'plain');
    await writeOciLayoutIndex(plain, { 'containerimage.descriptor': descriptorOf(image) });
    expect((await readOciIndex(plain)).manifests[0]).toMatchObject({ digest: image.digest, annotations: { 'org.opencontainers.image.ref.name': 'latest' } });
  });

  test('a response without a descriptor is a protocol error', async () => {
    expect((await errorOf(writeOciLayoutIndex(dir, {}))).code).toBe('protocol');
    expect((await errorOf(writeOciLayoutIndex(dir, { 'containerimage.descriptor': 'bm90IGpzb24=' }))).code).toBe('protocol');
  });
});
