import { BuildkitError } from '../../errors';
import { findByTag, putInOciIndex, readOciIndex, type OciDescriptor, type OciIndex } from './oci-index';
import { OciLayoutStore } from './oci-layout-store';

/**
 * The `digest` attribute of a `local` cache import: the daemon requires it
 * and does not read `index.json` itself (protocol doc §7.2). Picks the
 * manifest tagged `tag` in `<src>/index.json`, else the index's only
 * manifest, and checks its blob is in the layout. not-found when the cache
 * directory, the tag or the blob is missing.
 */
export async function resolveLocalCacheImport(src: string, tag = 'latest'): Promise<string> {
  let index: OciIndex;
  try {
    index = await readOciIndex(src);
  } catch (err) {
    throw BuildkitError.from(err, `local cache ${src}`);
  }
  const descriptor = findByTag(index, tag) ?? (index.manifests.length === 1 ? index.manifests[0] : undefined);
  if (!descriptor) {
    const tags = index.manifests.map((m) => m.annotations?.['org.opencontainers.image.ref.name']).filter(Boolean);
    throw new BuildkitError('not-found', `local cache ${src}: no manifest tagged ${JSON.stringify(tag)} (tags: ${tags.join(', ') || 'none'})`);
  }
  await new OciLayoutStore(src).info(descriptor.digest).catch((err) => {
    throw BuildkitError.from(err, `local cache ${src}: manifest of ${JSON.stringify(tag)} is missing`);
  });
  return descriptor.digest;
}

/**
 * After a solve with a `local` cache export: name the cache manifest the
 * daemon wrote (`ExporterResponse["cache.manifest"]`, a JSON descriptor) as
 * `tag` in `<dest>/index.json`, so a later import can find it.
 */
export async function writeLocalCacheIndex(dest: string, cacheManifestJson: string, tag = 'latest', signal?: AbortSignal): Promise<OciDescriptor> {
  let descriptor: OciDescriptor;
  try {
    descriptor = JSON.parse(cacheManifestJson) as OciDescriptor;
  } catch (err) {
    throw new BuildkitError('protocol', 'cache.manifest in the solve response is not JSON', { cause: err });
  }
  if (typeof descriptor?.digest !== 'string' || typeof descriptor.size !== 'number') {
    throw new BuildkitError('protocol', 'cache.manifest in the solve response is not a descriptor');
  }
  await putInOciIndex(dest, descriptor, [{ tag }], signal);
  return descriptor;
}
