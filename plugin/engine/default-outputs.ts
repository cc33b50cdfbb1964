import type { BuildkitClient } from '../buildkit/index';
import type { ImageTarget } from './image-target';

/**
 * Give targets without any output the builder's default, as `docker build`
 * and buildx do: on a Docker engine the image is loaded into the engine's
 * store under its names. A standalone buildkitd has no image store, and a
 * classic store cannot hold a multi-platform image: there nothing is
 * exported and the result stays in the build cache (the build result says
 * `cacheOnly`, and the executor warns).
 */
export async function withDefaultOutputs(targets: readonly ImageTarget[], client: BuildkitClient, signal?: AbortSignal): Promise<ImageTarget[]> {
  const bare = (t: ImageTarget) => !t.spec.outputs?.length && (t.imageNames?.length ?? 0) > 0;
  if (client.address.kind !== 'docker' || !targets.some(bare)) return [...targets];
  // An engine that does not answer now fails each build instead, with its retries and its own message.
  const store = await client.imageStore({ signal }).catch(() => undefined);
  return targets.map((t) => {
    if (!bare(t) || (store === 'classic' && (t.spec.platforms?.length ?? 0) > 1)) return t;
    return { ...t, spec: { ...t.spec, outputs: [{ type: 'load', names: [...t.imageNames!] }] } };
  });
}
