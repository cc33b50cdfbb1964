import type * as grpc from '@grpc/grpc-js';
import { failStream } from '../call-status';
import { encodePacket } from './wire';

/**
 * Refuse a DiffCopy call before any file was listed: an fsutil ERR packet
 * carrying `details`, then the call's non-OK status with the same text.
 *
 * Why the packet: BuildKit ≥ 0.10 (fsutil Receive) runs its packet reader
 * and its tree walker under one context derived from the gRPC stream's, and
 * keeps whichever of the two fails first. A status alone makes grpc-go end
 * the stream, which cancels that context before the reader sees the status,
 * so the walker's `context canceled` often wins the race (more so under
 * load) and the daemon reports that instead of the refusal. An ERR packet is
 * an ordinary message: the reader fails with its text (`error from sender:
 * …`) while the context is still live, so the refusal always reaches the
 * user. Daemons that stop at the packet never look at the status; the status
 * still tells any other caller (and old receivers) what happened.
 */
export function refuseDiffCopy(call: grpc.ServerDuplexStream<Buffer, Buffer>, code: number, details: string): void {
  // grpc-js sends the status only after the writes queued before it.
  call.write(encodePacket({ type: 'ERR', data: Buffer.from(details) }));
  failStream(call, code, details);
}
