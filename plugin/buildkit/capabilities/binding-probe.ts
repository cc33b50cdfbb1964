import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { FileSyncProvider } from '../attachables/filesync/file-sync-provider';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import { marshal } from '../llb/marshal';
import { State } from '../llb/state';

/**
 * How a daemon lets a solve read its context from a session other than its own
 * (session-experiments E1/E2):
 * - `local-sessionid`: Dockerfile frontend ≥ 1.10 (BuildKit ≥ 0.16) takes
 *   `local-sessionid:<local>` attributes;
 * - `frontend-inputs`: BuildKit ≥ 0.10 honours `local.session` on LLB local
 *   sources passed as frontend inputs;
 * - `prefetch`: BuildKit ≤ 0.9 ignores `local.session`; a solve of the same
 *   local source with the shared session as its own fills the cache first.
 */
export type BindingMechanism = 'local-sessionid' | 'frontend-inputs' | 'prefetch';

/**
 * Find the mechanism by trying it, never by version string (Debian-built
 * daemons report `v0.0.0+unknown`). Each probe is a tiny solve whose own
 * session serves no files, so success proves the other session was used.
 * Remembering the answer is the caller's ({@link BuilderCapabilities}).
 */
export async function probeBinding(client: BuildkitClient, signal?: AbortSignal): Promise<BindingMechanism> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nxbk-probe-'));
  try {
    await fs.writeFile(path.join(dir, 'Dockerfile'), 'FROM scratch\nCOPY probe.txt /probe.txt\n');
    await fs.writeFile(path.join(dir, 'probe.txt'), 'probe\n');
    await using shared = await client.openSession({ attachables: [new FileSyncProvider({ context: { dir }, 'probe-dockerfile': { dir }, 'probe-context': { dir } })], signal });
    await using own = await client.openSession({ attachables: [new FileSyncProvider({})], signal });
    if (await succeeds(signal, () => client.solve({
      session: own.id,
      frontend: 'dockerfile.v0',
      frontendAttrs: {
        'local-sessionid:context': shared.id,
        dockerfilekey: 'probe-dockerfile',
        'local-sessionid:probe-dockerfile': shared.id,
      },
    }, { signal }))) return 'local-sessionid';
    const local = marshal(State.scratch().copy(State.local('probe-context', { sessionId: shared.id }), '/probe.txt', '/probe.txt'));
    if (await succeeds(signal, () => client.solve({ session: own.id, definition: local }, { signal }))) return 'frontend-inputs';
    return 'prefetch';
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Whether a solve failed the way one does whose context was to come from
 * another session on a daemon that does not take it that way: the daemon
 * looked for the context in the solve's own session, which serves no such
 * directory. Never a daemon that could not be reached.
 */
export function bindingUnsupported(err: unknown): boolean {
  return err instanceof BuildkitError && err.code !== 'unavailable' && /no local sources enabled|no access allowed to dir|not found|no such file|failed to read dockerfile/i.test(err.message);
}

/** Tries of one probe solve that the daemon cancelled on its own. */
const probeTries = 3;

async function succeeds(signal: AbortSignal | undefined, solve: () => Promise<unknown>): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    try {
      await solve();
      return true;
    } catch (err) {
      // Only "the other session was not used" means unsupported; anything else is a real problem.
      // An unreachable daemon must never be taken for an answer (the run would go on with it).
      if (bindingUnsupported(err)) return false;
      // Seen once on BuildKit 0.8 under load: the failing probe answered
      // "context canceled" instead of its reason, which says nothing either way.
      if (err instanceof BuildkitError && err.code === 'cancelled' && !signal?.aborted && attempt < probeTries) continue;
      throw err;
    }
  }
}
