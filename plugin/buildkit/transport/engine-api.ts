import http from 'node:http';
import { BuildkitError } from '../errors';
import type { DockerEndpoint } from './builder-address';

/** A Docker Engine API answer. */
export interface EngineAnswer {
  status: number;
  body: string;
}

/**
 * One plain request to the Docker Engine API of the builder's engine (the
 * same socket or TCP endpoint that carries `/grpc` and `/session`), for the
 * few calls BuildKit's API has no equivalent of, such as removing an image
 * from the engine's store. Unversioned paths: every engine serves its own
 * newest API version there. `node:http` handles these one-shot requests
 * under Node and Bun alike (no upgrade, no repeated header fields).
 */
export function engineApiRequest(
  endpoint: DockerEndpoint,
  method: 'GET' | 'DELETE' | 'POST',
  path: string,
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<EngineAnswer> {
  const where = 'socketPath' in endpoint ? endpoint.socketPath : `${endpoint.host}:${endpoint.port}`;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new BuildkitError('cancelled', `${method} ${path} to ${where} was aborted`, { cause: options.signal.reason }));
    const target = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    const req = http.request({ ...target, method, path, headers: { host: 'docker' }, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(BuildkitError.from(err, `reading the answer to ${method} ${path} from ${where}`)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new BuildkitError('deadline-exceeded', `Docker engine at ${where} did not answer ${method} ${path} within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof BuildkitError ? err : BuildkitError.from(err, `${method} ${path} to Docker engine at ${where}`)));
    req.end();
  });
}
