import { createHash, randomBytes } from 'node:crypto';
import zlib from 'node:zlib';

/** The htpasswd registry of the e2e set-up (daemons.json `registryAuth`). */
export interface AuthRegistry {
  address: string;
  username: string;
  password: string;
}

const manifestType = 'application/vnd.docker.distribution.manifest.v2+json';
const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/**
 * Push `<registry>/<repo>:<tag>`: the registry's `nxbk-base:latest` (its
 * layers mounted, not copied) plus one layer holding `/big.bin` of `bytes`
 * random bytes, so no daemon has it cached and pulling it takes a while.
 * Talks to the registry's HTTP API directly, so it needs no daemon that can
 * push. Returns the reference.
 */
export async function pushLargePrivateImage(registry: AuthRegistry, repo: string, tag: string, bytes: number): Promise<string> {
  const base = `http://${registry.address}/v2`;
  const auth = `Basic ${Buffer.from(`${registry.username}:${registry.password}`).toString('base64')}`;
  const call = async (url: string, init: RequestInit = {}): Promise<Response> => {
    const res = await fetch(url.startsWith('http') ? url : `${base}${url}`, { ...init, headers: { Authorization: auth, ...init.headers } });
    if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
    return res;
  };
  const manifest = (await (await call('/nxbk-base/manifests/latest', { headers: { Accept: manifestType } })).json()) as {
    config: { digest: string };
    layers: Array<{ mediaType: string; size: number; digest: string }>;
  };
  const config = (await (await call(`/nxbk-base/blobs/${manifest.config.digest}`)).json()) as {
    rootfs: { diff_ids: string[] };
    history?: unknown[];
  };
  const tar = tarOfOneFile('big.bin', randomBytes(bytes));
  // Random bytes do not compress: store them (level 0) and spare the CPU.
  const layer = zlib.gzipSync(tar, { level: 0 });
  const layerDigest = sha256(layer);
  const newConfig = Buffer.from(JSON.stringify({
    ...config,
    rootfs: { ...config.rootfs, diff_ids: [...config.rootfs.diff_ids, sha256(tar)] },
    history: [...(config.history ?? []), { created_by: 'e2e: a large random layer' }],
  }));
  for (const l of manifest.layers) {
    const res = await call(`/${repo}/blobs/uploads/?mount=${l.digest}&from=nxbk-base`, { method: 'POST' });
    if (res.status !== 201) await upload(call, repo, (await (await call(`/nxbk-base/blobs/${l.digest}`)).arrayBuffer()), l.digest);
  }
  await upload(call, repo, layer, layerDigest);
  await upload(call, repo, newConfig, sha256(newConfig));
  const newManifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: { mediaType: 'application/vnd.docker.container.image.v1+json', size: newConfig.length, digest: sha256(newConfig) },
    layers: [...manifest.layers, { mediaType: 'application/vnd.docker.image.rootfs.diff.tar.gzip', size: layer.length, digest: layerDigest }],
  };
  await call(`/${repo}/manifests/${tag}`, { method: 'PUT', headers: { 'Content-Type': manifestType }, body: JSON.stringify(newManifest) });
  return `${registry.address}/${repo}:${tag}`;
}

async function upload(call: (url: string, init?: RequestInit) => Promise<Response>, repo: string, body: ArrayBuffer | Buffer, digest: string): Promise<void> {
  const start = await call(`/${repo}/blobs/uploads/`, { method: 'POST' });
  const location = start.headers.get('location')!;
  const sep = location.includes('?') ? '&' : '?';
  await call(`${location}${sep}digest=${encodeURIComponent(digest)}`, { method: 'PUT', headers: { 'Content-Type': 'application/octet-stream' }, body: new Uint8Array(body as ArrayBuffer) });
}

/** A ustar archive holding one regular file (mode 644, fixed mtime). */
function tarOfOneFile(name: string, content: Buffer): Buffer {
  const header = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number) => header.write(value, offset, length, 'ascii');
  const octal = (n: number, length: number) => n.toString(8).padStart(length - 1, '0') + '\0';
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(content.length, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  put('        ', 148, 8);
  put('0', 156, 1);
  put('ustar\0', 257, 6);
  put('00', 263, 2);
  let sum = 0;
  for (const b of header) sum += b;
  put(sum.toString(8).padStart(6, '0') + '\0 ', 148, 8);
  const padding = Buffer.alloc((512 - (content.length % 512)) % 512);
  return Buffer.concat([header, content, padding, Buffer.alloc(1024)]);
}
