import net from 'node:net';
import { BuildkitError } from '../errors';
import type { DockerEndpoint } from './builder-address';

/** One HTTP header; a name may repeat (the Engine needs one field per session method). */
export type HeaderField = readonly [name: string, value: string];

/**
 * Open a connection to the Docker Engine API and upgrade `POST <path>` to h2c.
 * Resolves with the raw socket positioned right after the `101` response
 * (any bytes that arrived with it are pushed back), ready for HTTP/2.
 *
 * Written over `net` rather than `node:http` so that the same code path runs
 * under Node and Bun, and so repeated header fields go out exactly as given.
 */
export async function upgradeToH2c(
  endpoint: DockerEndpoint,
  path: string,
  headers: readonly HeaderField[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<net.Socket> {
  for (const [name, value] of headers) {
    if (/[\r\n]/.test(name + value)) throw new BuildkitError('invalid-argument', `HTTP header ${name} contains a line break`);
  }
  const socket = 'socketPath' in endpoint ? net.connect(endpoint.socketPath) : net.connect(endpoint.port, endpoint.host);
  // Named as the builder address is (docker://<socket>), so errors match what the user configured.
  const where = 'socketPath' in endpoint ? `docker://${endpoint.socketPath}` : `${endpoint.host}:${endpoint.port}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise<net.Socket>((resolve, reject) => {
    let buffered = Buffer.alloc(0);
    const timer = setTimeout(() => fail(new BuildkitError('deadline-exceeded', `Docker engine at ${where} did not answer POST ${path} within ${timeoutMs} ms`)), timeoutMs);
    const onAbort = () => fail(new BuildkitError('cancelled', `POST ${path} to ${where} was aborted`, { cause: options.signal?.reason }));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    if (options.signal?.aborted) return onAbort();

    function cleanup() {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      socket.off('data', onData);
      socket.off('error', onError);
      socket.off('close', onClose);
    }
    function fail(err: BuildkitError) {
      cleanup();
      socket.destroy();
      reject(err);
    }
    function onError(err: Error) {
      fail(BuildkitError.from(err, `cannot reach the builder at ${where}`));
    }
    function onClose() {
      fail(new BuildkitError('unavailable', `Docker engine at ${where} closed the connection during POST ${path}`));
    }
    function onData(chunk: Buffer) {
      buffered = Buffer.concat([buffered, chunk]);
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buffered.length > 64 * 1024) fail(new BuildkitError('protocol', `oversized HTTP response from ${where}`));
        return;
      }
      const head = buffered.subarray(0, end).toString('latin1');
      const rest = buffered.subarray(end + 4);
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(head);
      if (status?.[1] !== '101') {
        const body = rest.toString('utf8').trim().slice(0, 500);
        return fail(new BuildkitError(status ? 'failed-precondition' : 'protocol', `Docker engine at ${where} refused POST ${path}: ${head.split('\r\n')[0]}${body ? ` ${body}` : ''}`));
      }
      cleanup();
      socket.pause();
      if (rest.length > 0) socket.unshift(rest);
      resolve(socket);
    }

    socket.on('data', onData);
    socket.on('error', onError);
    socket.on('close', onClose);
    const lines = [`POST ${path} HTTP/1.1`, 'Host: docker', 'Connection: Upgrade', 'Upgrade: h2c', 'Content-Length: 0'];
    for (const [name, value] of headers) lines.push(`${name}: ${value}`);
    socket.write(lines.join('\r\n') + '\r\n\r\n');
  });
}
