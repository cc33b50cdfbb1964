import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createPathFilter } from '../attachables/filesync/patterns/path-filter';
import { FileSyncProvider } from '../attachables/filesync/file-sync-provider';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import { marshal } from '../llb/marshal';
import { State } from '../llb/state';

/** A file name outside printable ASCII, for the probe. */
const probeName = 'nxbk-é.txt';

const probed = new Map<string, Promise<boolean>>();

/**
 * Whether the daemon can hand the client context filters (`exclude-patterns`,
 * `include-patterns`, `followpaths`) with non-ASCII characters. BuildKit
 * 0.12 and later query-escape such header values (and say so with
 * `<key>-encoded`); earlier ones pass them raw: depending on the gRPC
 * library the daemon was built with, it refuses to send them ("contains
 * value with non-printable ASCII characters") or the client's gRPC drops the
 * whole header. Either way such a filter never reaches the client.
 *
 * Decided by what the daemon says of itself where it can: no `Control/Info`
 * means BuildKit before 0.11, a real version is compared; Debian-built
 * engines report `v0.0.0+unknown`, so for them a tiny solve asks for one
 * non-ASCII followpath and looks at what arrives. The answer is remembered
 * per daemon address for the life of the process.
 */
export function escapesFilterHeaders(client: BuildkitClient, signal?: AbortSignal): Promise<boolean> {
  const key = client.address.display;
  let result = probed.get(key);
  if (!result) {
    result = decide(client, signal);
    probed.set(key, result);
    result.catch(() => probed.delete(key));
  }
  return result;
}

async function decide(client: BuildkitClient, signal?: AbortSignal): Promise<boolean> {
  const info = await client.control.info({ signal });
  if (!info) return false;
  const version = /^v?(\d+)\.(\d+)\./.exec(info.version);
  if (version && !(version[1] === '0' && version[2] === '0')) return Number(version[1]) > 0 || Number(version[2]) >= 12;
  return probe(client, signal);
}

async function probe(client: BuildkitClient, signal?: AbortSignal): Promise<boolean> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nxbk-header-probe-'));
  try {
    await fs.writeFile(path.join(dir, probeName), 'probe\n');
    const asked: string[][] = [];
    const sync = new FileSyncProvider({ probe: { dir } }, (request, synced, s) => {
      asked.push(request.followPaths);
      return createPathFilter(synced.dir, request, { signal: s });
    });
    await using session = await client.openSession({ attachables: [sync], signal });
    const definition = marshal(State.scratch().copy(State.local('probe', { sessionId: session.id, followPaths: [probeName], differ: 'none', unique: session.id }), `/${probeName}`, '/probe.txt'));
    try {
      await client.solve({ session: session.id, definition }, { signal });
    } catch (err) {
      if (err instanceof BuildkitError && /non-printable ASCII/.test(err.message)) return false;
      throw BuildkitError.from(err, 'probing how the builder passes non-ASCII context filters');
    }
    if (asked.length === 0) throw new BuildkitError('internal', 'probing how the builder passes non-ASCII context filters: the builder never asked for the probe directory');
    return asked.every((followPaths) => followPaths.includes(probeName));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}
