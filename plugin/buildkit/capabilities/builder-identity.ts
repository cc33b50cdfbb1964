import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import type { DockerEndpoint } from '../transport/builder-address';
import { engineApiRequest } from '../transport/engine-api';

/**
 * What identifies the build engine behind a client, as a printable key for
 * remembering its capabilities across runs; undefined when the daemon does
 * not say enough to tell it apart from another one at the same address.
 *
 * Never the address alone: a socket or port may be served by another daemon
 * tomorrow. A Docker engine is its engine ID (`GET /info`, kept across
 * restarts, new for a reinstalled engine) with its version (`GET /version`)
 * and the embedded BuildKit's version where `Control/Info` gives one; a
 * standalone buildkitd is its version with its workers' IDs (each created
 * with the daemon's state directory). An upgrade changes the key, so the
 * capabilities are found out anew.
 */
export async function builderIdentity(client: BuildkitClient, signal?: AbortSignal): Promise<string | undefined> {
  const address = client.address;
  if (address.kind === 'docker') {
    const [info, version, buildkit] = await Promise.all([
      engineJson<{ ID?: string }>(address.endpoint, '/info', signal),
      engineJson<{ Version?: string }>(address.endpoint, '/version', signal),
      client.control.info({ signal }),
    ]);
    if (!info.ID || !version.Version) return undefined;
    return `docker engine ${info.ID} ${version.Version}${buildkit?.version ? ` buildkit ${buildkit.version}` : ''}`;
  }
  const [info, workers] = await Promise.all([client.control.info({ signal }), client.listWorkers({ signal })]);
  const ids = workers.map((w) => w.id).filter(Boolean).sort();
  if (ids.length === 0) return undefined;
  const versions = [...new Set(workers.map((w) => w.buildkitVersion?.version).filter(Boolean))];
  return `buildkitd ${info?.version ?? (versions.join(',') || 'unknown')} workers ${ids.join(',')}`;
}

async function engineJson<T>(endpoint: DockerEndpoint, path: string, signal?: AbortSignal): Promise<T> {
  const answer = await engineApiRequest(endpoint, 'GET', path, { signal });
  if (answer.status !== 200) throw new BuildkitError('unavailable', `asking the Docker engine who it is (GET ${path}): HTTP ${answer.status}`);
  return JSON.parse(answer.body) as T;
}
