import net from 'node:net';
import { BuildkitError } from '../errors';
import type { BuilderAddress } from './builder-address';
import { upgradeToH2c } from './http-upgrade';

/**
 * Check that something listens at `address` before gRPC is involved, so a
 * failure says why in plain words (no such socket, connection refused, the
 * Engine refused the upgrade) instead of grpc-js' generic "No connection
 * established".
 */
export async function probeReachable(address: BuilderAddress, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (address.kind === 'docker') {
    const socket = await upgradeToH2c(address.endpoint, '/grpc', [], { timeoutMs, signal });
    socket.destroy();
    return;
  }
  const where = address.kind === 'unix' ? address.path : `${address.host}:${address.port}`;
  await new Promise<void>((resolve, reject) => {
    const socket = address.kind === 'unix' ? net.connect(address.path) : net.connect(address.port, address.host);
    const timer = setTimeout(() => finish(new BuildkitError('deadline-exceeded', `no answer from ${where} within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => finish(new BuildkitError('cancelled', `connecting to ${where} was aborted`));
    signal?.addEventListener('abort', onAbort, { once: true });
    function finish(err?: Error) {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      if (err) reject(err);
      else resolve();
    }
    socket.once('connect', () => finish());
    socket.once('error', (err) => finish(BuildkitError.from(err, `cannot connect to ${where}`)));
  });
}
