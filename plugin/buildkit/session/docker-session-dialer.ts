import type { DockerEndpoint } from '../transport/builder-address';
import { upgradeToH2c } from '../transport/http-upgrade';
import { socketDuplex } from '../transport/socket-duplex';
import type { SessionDialer } from './session';
import { sessionHeaderFields } from './session-headers';

/**
 * A session dialer for Docker engines: `POST /session` upgraded to h2c, the
 * session headers sent as plain HTTP headers (one field per method). After
 * the `101`, the engine is the HTTP/2 client and the raw socket is the
 * session's connection, with no BytesMessage framing.
 */
export function dockerSessionDialer(endpoint: DockerEndpoint): SessionDialer {
  return async (headers, signal) => {
    const socket = await upgradeToH2c(endpoint, '/session', sessionHeaderFields(headers), { signal });
    return socketDuplex(socket);
  };
}
