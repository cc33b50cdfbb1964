import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { BuildkitError } from './errors';
import { decodeBytesMessage, encodeBytesMessage } from './protocol/bytes-message';
import type { SessionDialer } from './session/session';
import { sessionHeaderFields } from './session/session-headers';
import { TunnelDuplex } from './session/tunnel-duplex';
import type { GrpcChannel } from './transport/channel';

/**
 * A session dialer that runs sessions inside the daemon connection, through
 * `Control/Session` (works on standalone buildkitd and on Docker's `/grpc`).
 * It joins the Control service's channel and the session tunnel, which
 * know nothing of each other (as `client.ts` joins them).
 */
export function controlSessionDialer(channel: GrpcChannel): SessionDialer {
  return async (headers, signal) => {
    const metadata = new grpc.Metadata();
    // Repeated keys become separate header fields, one per method, as the daemon requires.
    for (const [name, value] of sessionHeaderFields(headers)) metadata.add(name.toLowerCase(), value);
    const call = channel.client.makeBidiStreamRequest(
      '/moby.buildkit.v1.Control/Session',
      encodeBytesMessage,
      decodeBytesMessage,
      metadata,
      {},
    ) as grpc.ClientDuplexStream<Buffer, Buffer>;
    const duplex: Duplex = new TunnelDuplex(call);
    const onAbort = () => duplex.destroy(new BuildkitError('cancelled', 'session dial aborted'));
    signal.addEventListener('abort', onAbort, { once: true });
    duplex.once('close', () => signal.removeEventListener('abort', onAbort));
    return duplex;
  };
}
