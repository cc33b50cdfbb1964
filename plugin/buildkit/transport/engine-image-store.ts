import { BuildkitError } from '../errors';
import type { DockerEndpoint } from './builder-address';
import { engineApiRequest } from './engine-api';

/**
 * Which image store a Docker engine uses: `containerd` (the containerd
 * snapshotters: BuildKit's image, oci and docker exporters, multi-platform
 * indexes) or `classic` (graph drivers: only the engine's own `moby`
 * exporter, one platform per image). Read from `GET /info`, whose
 * `DriverStatus` names `driver-type io.containerd.snapshotter.v1` on the
 * containerd store, as buildx reads it.
 */
export async function engineImageStore(endpoint: DockerEndpoint, signal?: AbortSignal): Promise<'classic' | 'containerd'> {
  const answer = await engineApiRequest(endpoint, 'GET', '/info', { signal });
  if (answer.status !== 200) throw new BuildkitError('unavailable', `asking the Docker engine for its image store (GET /info): HTTP ${answer.status} ${answer.body.trim().slice(0, 200)}`);
  const info = JSON.parse(answer.body) as { DriverStatus?: Array<[string, string]> | null };
  const containerd = (info.DriverStatus ?? []).some(([key, value]) => key === 'driver-type' && value.startsWith('io.containerd.snapshotter'));
  return containerd ? 'containerd' : 'classic';
}
