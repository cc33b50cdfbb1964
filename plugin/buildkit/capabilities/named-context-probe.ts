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

/**
 * Whether the daemon's built-in Dockerfile frontend honours `context:<name>`
 * attributes (Dockerfile frontend 1.4, BuildKit 0.10, Docker Engine 23).
 * Older frontends ignore them silently and resolve the name as an image
 * from a registry (`FROM base` pulls `docker.io/library/base`), so a build
 * would use the wrong content or fail obscurely. Found by trying a tiny
 * build (Debian-built daemons report no usable version); remembering the
 * answer is the caller's ({@link BuilderCapabilities}).
 */
export async function probeNamedContexts(client: BuildkitClient, signal?: AbortSignal): Promise<boolean> {
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
