import { BuildkitError } from '../errors';
import type { DockerEndpoint } from './builder-address';
import { engineApiRequest } from './engine-api';

/** What the client reads from a Docker engine's `GET /info`. */
export interface EngineInfo {
  /** The engine's ID, kept across restarts (see capabilities/builder-identity.ts). */
  ID?: string;
  ServerVersion?: string;
  DriverStatus?: Array<[string, string]> | null;
}

/** A Docker engine's `GET /info`. */
export async function readEngineInfo(endpoint: DockerEndpoint, signal?: AbortSignal): Promise<EngineInfo> {
  const answer = await engineApiRequest(endpoint, 'GET', '/info', { signal });
  if (answer.status !== 200) throw new BuildkitError('unavailable', `asking the Docker engine about itself (GET /info): HTTP ${answer.status} ${answer.body.trim().slice(0, 200)}`);
  return JSON.parse(answer.body) as EngineInfo;
}

/**
 * Which image store a Docker engine uses: `containerd` (the containerd
 * snapshotters: BuildKit's image, oci and docker exporters, multi-platform
 * indexes) or `classic` (graph drivers: only the engine's own `moby`
 * exporter, one platform per image). Read from `GET /info`, whose
 * `DriverStatus` names `driver-type io.containerd.snapshotter.v1` on the
 * containerd store, as buildx reads it.
 */
export function imageStoreOf(info: EngineInfo): 'classic' | 'containerd' {
  const containerd = (info.DriverStatus ?? []).some(([key, value]) => key === 'driver-type' && value.startsWith('io.containerd.snapshotter'));
  return containerd ? 'containerd' : 'classic';
}

/** The image store of the engine at `endpoint` (see {@link imageStoreOf}). */
export async function engineImageStore(endpoint: DockerEndpoint, signal?: AbortSignal): Promise<'classic' | 'containerd'> {
  return imageStoreOf(await readEngineInfo(endpoint, signal));
}
