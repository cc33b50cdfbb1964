import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileSyncProvider } from '../attachables/filesync/file-sync-provider';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';

/**
 * The probe's context name is an image reference on a port nobody listens
 * on: a frontend that knows named contexts serves it from our session, an
 * older one looks it up as an image and fails at once with "connection
 * refused", without any traffic leaving the daemon's machine.
 */
const probeRegistry = '127.0.0.1:1';
const probeName = `${probeRegistry}/nxbk-named-context-probe`;

const probed = new Map<string, Promise<boolean>>();

/**
 * Whether the daemon's built-in Dockerfile frontend honours `context:<name>`
 * attributes (Dockerfile frontend 1.4, BuildKit 0.10, Docker Engine 23).
 * Older frontends ignore them silently and resolve the name as an image
 * from a registry (`FROM base` pulls `docker.io/library/base`), so a build
 * would use the wrong content or fail obscurely. Found by trying a tiny
 * build once per daemon address (Debian-built daemons report no usable
 * version); the answer is remembered for the life of the process.
 */
export function supportsNamedContexts(client: BuildkitClient, signal?: AbortSignal): Promise<boolean> {
  const key = client.address.display;
  let result = probed.get(key);
  if (!result) {
    result = probe(client, signal);
    probed.set(key, result);
    result.catch(() => probed.delete(key));
  }
  return result;
}

async function probe(client: BuildkitClient, signal?: AbortSignal): Promise<boolean> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nxbk-named-probe-'));
  try {
    await fs.writeFile(path.join(dir, 'Dockerfile'), `FROM scratch\nCOPY --from=${probeName} probe.txt /probe.txt\n`);
    await fs.writeFile(path.join(dir, 'probe.txt'), 'probe\n');
    await using session = await client.openSession({
      attachables: [new FileSyncProvider({ context: { dir }, dockerfile: { dir }, probe: { dir } })],
      signal,
    });
    await client.solve(
      { session: session.id, frontend: 'dockerfile.v0', frontendAttrs: { filename: 'Dockerfile', [`context:${probeName}`]: 'local:probe' } },
      { signal },
    );
    return true;
  } catch (err) {
    if (err instanceof BuildkitError && err.message.includes(probeRegistry) && !signal?.aborted) return false;
    throw BuildkitError.from(err, 'probing named context support');
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
