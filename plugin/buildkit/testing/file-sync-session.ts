import http2 from 'node:http2';
import { FileSyncProvider, type SyncedDir } from '../attachables/filesync/file-sync-provider';
import { Session } from '../session/session';
import { duplexPair } from './duplex-pair';

/**
 * Test support: a Session serving `dirs` by FileSync over an in-process
 * connection, with `client` the daemon's HTTP/2 side of it (for
 * `diffCopy` in diff-copy-call.ts). Closes both when `run` settles.
 */
export async function withFileSyncSession(dirs: Record<string, SyncedDir>, run: (client: http2.ClientHttp2Session, provider: FileSyncProvider) => Promise<void>): Promise<void> {
  const [ours, daemon] = duplexPair();
  const provider = new FileSyncProvider(dirs);
  const session = new Session({ attachables: [provider] });
  await session.open(async () => ours);
  const client = http2.connect('http://localhost', { createConnection: () => daemon as never });
  try {
    await run(client, provider);
  } finally {
    client.destroy();
    await session.close();
  }
}
