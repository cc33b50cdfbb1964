import type http2 from 'node:http2';
import { isDirectory, isSymlink } from '../attachables/filesync/go-file-mode';
import { decodePacket } from '../attachables/filesync/wire';
import { packetMessage } from './packet-message';

/** What one DiffCopy call returned, as the daemon saw it. */
export interface DiffCopyResult {
  /** grpc-status ('0' is OK). */
  status: string;
  message: string;
  /** Listed entries (`dir/`, `file`, `link -> target`), in id order. */
  listing: string[];
  /** Every content byte received, concatenated (utf8). */
  content: string;
  /** The text of each fsutil ERR packet the sender sent, in order. */
  senderErrors: string[];
}

/** Which ids to request once the listing is in: `files` holds the ids of the listed regular files. */
export type ContentRequest = (listing: string[], files: number[]) => number[];

/** Request the content of every listed regular file, as a daemon that copies the whole listing does. */
export const everyFile: ContentRequest = (_listing, files) => files;

/**
 * Test support: one DiffCopy as a daemon makes it over `client` (an HTTP/2
 * session to a Session's server side): `headers` in, the listing out; then
 * REQ for the ids `request` picks (default: none), FIN. The call is over once
 * its status is known: an early refusal comes before any FIN.
 */
export async function diffCopy(client: http2.ClientHttp2Session, headers: Record<string, string | string[]>, request: ContentRequest = () => []): Promise<DiffCopyResult> {
  const req = client.request({ ':method': 'POST', ':path': '/moby.filesync.v1.FileSync/DiffCopy', 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const listing: string[] = [];
  const files: number[] = [];
  let content = '';
  const senderErrors: string[] = [];
  let status = '';
  let message = '';
  let pending = Buffer.alloc(0);
  req.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const packet = decodePacket(pending.subarray(5, 5 + pending.readUInt32BE(1)));
      pending = pending.subarray(5 + pending.readUInt32BE(1));
      if (packet.type === 'STAT' && packet.stat) {
        const s = packet.stat;
        if (!isDirectory(s.mode) && !isSymlink(s.mode)) files.push(listing.length);
        listing.push(isDirectory(s.mode) ? `${s.path}/` : isSymlink(s.mode) ? `${s.path} -> ${s.linkname}` : s.path);
      } else if (packet.type === 'STAT') {
        for (const id of request(listing, files)) req.write(packetMessage({ type: 'REQ', id }));
        req.write(packetMessage({ type: 'FIN' }));
      } else if (packet.type === 'DATA' && packet.data) {
        content += Buffer.from(packet.data).toString('utf8');
      } else if (packet.type === 'FIN') {
        req.end();
      } else if (packet.type === 'ERR') {
        senderErrors.push(Buffer.from(packet.data ?? []).toString('utf8'));
      }
    }
  });
  const onStatus = (h: http2.IncomingHttpHeaders) => {
    if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    if (status !== '' && !req.writableEnded) req.end();
  };
  req.on('response', onStatus);
  req.on('trailers', onStatus);
  await new Promise((r) => req.on('close', r));
  return { status, message, listing, content, senderErrors };
}
