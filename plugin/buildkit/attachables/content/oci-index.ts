import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildkitError } from '../../errors';

/** An OCI content descriptor (the fields this client reads; others are kept as they are). */
export interface OciDescriptor {
  mediaType: string;
  digest: string;
  size: number;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string; variant?: string };
  [field: string]: unknown;
}

/** An OCI image index (`index.json` of a layout). */
export interface OciIndex {
  schemaVersion: number;
  mediaType?: string;
  manifests: OciDescriptor[];
  annotations?: Record<string, string>;
  [field: string]: unknown;
}

/** How a descriptor is named in an index: a bare tag, or a full image name. */
export type IndexName = { tag: string } | { name: string };

/** The OCI annotation holding a manifest's tag in a layout. */
export const refNameAnnotation = 'org.opencontainers.image.ref.name';
/** containerd's annotation holding the full image name. */
export const imageNameAnnotation = 'io.containerd.image.name';

const indexMediaType = 'application/vnd.oci.image.index.v1+json';
const lockRetryMs = 25;
const lockTimeoutMs = 10_000;

/** Read `<dir>/index.json`; not-found when the directory has none. */
export async function readOciIndex(dir: string): Promise<OciIndex> {
  const file = path.join(dir, 'index.json');
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    throw BuildkitError.from(err, `reading ${file}`);
  }
  try {
    const index = JSON.parse(text) as OciIndex;
    return { ...index, manifests: Array.isArray(index.manifests) ? index.manifests : [] };
  } catch (err) {
    throw new BuildkitError('invalid-argument', `${file} is not a JSON image index`, { cause: err });
  }
}

/**
 * The manifest a tag names: the one whose `io.containerd.image.name`, else
 * whose `org.opencontainers.image.ref.name`, equals `tag` (the Go client's
 * lookup order); undefined when none does.
 */
export function findByTag(index: OciIndex, tag: string): OciDescriptor | undefined {
  return index.manifests.find((m) => m.annotations?.[imageNameAnnotation] === tag)
    ?? index.manifests.find((m) => m.annotations?.[refNameAnnotation] === tag);
}

/**
 * Add `descriptor` to `<dir>/index.json` once per name, replacing manifests
 * that carried the same name, and write the `oci-layout` file. Concurrent
 * writers (other processes too) are serialised by an `index.json.lock` file;
 * the new index is written to a temporary file and renamed over the old one,
 * so readers never see a half-written index.
 */
export async function putInOciIndex(dir: string, descriptor: OciDescriptor, names: readonly IndexName[], signal?: AbortSignal): Promise<OciIndex> {
  await fs.mkdir(dir, { recursive: true });
  const release = await lockIndex(dir, signal);
  try {
    await fs.writeFile(path.join(dir, 'oci-layout'), '{"imageLayoutVersion":"1.0.0"}');
    const current = await readOciIndex(dir).catch((err: BuildkitError) => {
      if (err.code === 'not-found') return { schemaVersion: 2, manifests: [] } as OciIndex;
      throw err;
    });
    const index: OciIndex = { ...current, schemaVersion: current.schemaVersion || 2, mediaType: current.mediaType || indexMediaType };
    for (const name of names.length > 0 ? names : [undefined]) index.manifests = insert(index.manifests, descriptor, name);
    const tmp = path.join(dir, `.index.json.${crypto.randomUUID()}`);
    await fs.writeFile(tmp, JSON.stringify(index));
    await fs.rename(tmp, path.join(dir, 'index.json'));
    return index;
  } finally {
    await release();
  }
}

function insert(manifests: OciDescriptor[], descriptor: OciDescriptor, name: IndexName | undefined): OciDescriptor[] {
  const entry: OciDescriptor = { ...descriptor, annotations: { ...descriptor.annotations } };
  if (!name) return [...manifests, entry];
  const imageName = 'name' in name ? name.name : undefined;
  const refName = 'name' in name ? ociRefName(name.name) : name.tag;
  if (imageName) entry.annotations![imageNameAnnotation] = imageName;
  entry.annotations![refNameAnnotation] = refName;
  const kept = manifests.filter((m) => m.annotations?.[refNameAnnotation] !== refName || m.annotations?.[imageNameAnnotation] !== imageName);
  return [...kept, entry];
}

/**
 * The OCI ref name for a full image name: the tag (with any digest) after the
 * repository, since OCI ref names are meant to be tags; a name without a
 * recognisable tag is kept whole, as the Go client does when it cannot parse one.
 */
export function ociRefName(name: string): string {
  const slash = name.lastIndexOf('/');
  if (slash < 0) return name;
  const rest = name.slice(slash + 1);
  const colon = rest.indexOf(':');
  const at = rest.indexOf('@');
  if (colon >= 0 && (at < 0 || colon < at)) return rest.slice(colon + 1);
  if (at >= 0) return rest.slice(at);
  return name;
}

async function lockIndex(dir: string, signal?: AbortSignal): Promise<() => Promise<void>> {
  const lock = path.join(dir, 'index.json.lock');
  const deadline = Date.now() + lockTimeoutMs;
  for (;;) {
    signal?.throwIfAborted();
    try {
      await fs.writeFile(lock, String(process.pid), { flag: 'wx' });
      return () => fs.rm(lock, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw BuildkitError.from(err, `locking ${lock}`);
      if (Date.now() > deadline) throw new BuildkitError('unavailable', `could not lock ${lock}: another writer holds it (remove it if no build is running)`);
      await new Promise((resolve) => setTimeout(resolve, lockRetryMs));
    }
  }
}
