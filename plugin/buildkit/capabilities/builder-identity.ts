import type { BuildkitClient } from '../client';

/**
 * What identifies the build engine behind a client, as a printable key for
 * remembering its capabilities across runs; undefined when the daemon does
 * not say enough to tell it apart from another one at the same address.
 *
 * Never the address alone: a socket or port may be served by another daemon
 * tomorrow. A Docker engine is its engine ID (`GET /info`, kept across
 * restarts, new for a reinstalled engine) with its version (`ServerVersion`
 * there) and the embedded BuildKit's version where `Control/Info` gives one; a
 * standalone buildkitd is its version with its workers' IDs (each created
 * with the daemon's state directory). An upgrade changes the key, so the
 * capabilities are found out anew.
 */
export async function builderIdentity(client: BuildkitClient, signal?: AbortSignal): Promise<string | undefined> {
  if (client.address.kind === 'docker') {
    // The same `GET /info` the client reads the image store from: one request for both.
    const [engine, buildkit] = await Promise.all([client.engineInfo({ signal }), client.control.info({ signal })]);
    if (!engine?.ID || !engine.ServerVersion) return undefined;
    return `docker engine ${engine.ID} ${engine.ServerVersion}${buildkit?.version ? ` buildkit ${buildkit.version}` : ''}`;
  }
  const [info, workers] = await Promise.all([client.control.info({ signal }), client.listWorkers({ signal })]);
  const ids = workers.map((w) => w.id).filter(Boolean).sort();
  if (ids.length === 0) return undefined;
  const versions = [...new Set(workers.map((w) => w.buildkitVersion?.version).filter(Boolean))];
  return `buildkitd ${info?.version ?? (versions.join(',') || 'unknown')} workers ${ids.join(',')}`;
}
