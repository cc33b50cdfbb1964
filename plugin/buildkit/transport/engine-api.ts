import http from 'node:http';
import type { Readable } from 'node:stream';
import { BuildkitError } from '../errors';
import type { DockerEndpoint } from './builder-address';

/** A Docker Engine API answer. */
export interface EngineAnswer {
  status: number;
  body: string;
}

/** Options of one Engine API request. */
export interface EngineRequestOptions {
  signal?: AbortSignal;
  /** Longest silence on the connection (default 10 s); long transfers still pass as long as bytes flow. */
  timeoutMs?: number;
  /** Extra request headers (e.g. `X-Registry-Auth`). */
  headers?: Readonly<Record<string, string>>;
  /** Request body: bytes, or a stream piped as it comes (chunked), e.g. an image tarball for `/images/load`. */
  body?: Buffer | Readable;
}

/**
 * One plain request to the Docker Engine API of an engine (the builder's, or
 * the one images are loaded into), for the calls BuildKit's API has no
 * equivalent of: inspecting or removing an image, pushing one from the
 * engine's store, loading a tarball. Unversioned paths: every engine serves
 * its own newest API version there. `node:http` handles these one-shot
 * requests under Node and Bun alike (no upgrade, no repeated header fields).
 */
export function engineApiRequest(endpoint: DockerEndpoint, method: 'GET' | 'DELETE' | 'POST', path: string, options: EngineRequestOptions = {}): Promise<EngineAnswer> {
  const where = engineDisplay(endpoint);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new BuildkitError('cancelled', `${method} ${path} to ${where} was aborted`, { cause: options.signal.reason }));
    const target = 'socketPath' in endpoint ? { socketPath: endpoint.socketPath } : { host: endpoint.host, port: endpoint.port };
    const headers: Record<string, string> = { host: 'docker', ...options.headers };
    if (Buffer.isBuffer(options.body)) headers['content-length'] = String(options.body.length);
    const req = http.request({ ...target, method, path, headers, signal: options.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', (err) => reject(BuildkitError.from(err, `reading the answer to ${method} ${path} from ${where}`)));
    });
    req.setTimeout(timeoutMs, () => req.destroy(new BuildkitError('deadline-exceeded', `Docker engine at ${where} did not answer ${method} ${path} within ${timeoutMs} ms`)));
    req.on('error', (err) => reject(err instanceof BuildkitError ? err : BuildkitError.from(err, `${method} ${path} to Docker engine at ${where}`)));
    const body = options.body;
    if (body === undefined) req.end();
    else if (Buffer.isBuffer(body)) req.end(body);
    else {
      body.on('error', (err) => req.destroy(BuildkitError.from(err, `sending the body of ${method} ${path} to ${where}`)));
      body.pipe(req);
    }
  });
}

/** How an engine endpoint is named in messages. */
export function engineDisplay(endpoint: DockerEndpoint): string {
  return 'socketPath' in endpoint ? endpoint.socketPath : `${endpoint.host}:${endpoint.port}`;
}

/**
 * The messages of an Engine API progress stream (`/images/…/push`,
 * `/images/load`): one JSON object per line. The HTTP status is 200 once the
 * stream starts, so failures arrive as an `error`/`errorDetail` message.
 */
export interface EngineStreamMessage {
  status?: string;
  stream?: string;
  error?: string;
  errorDetail?: { message?: string };
  aux?: Record<string, unknown>;
}

/** Parse a progress stream; the first error message it carries is thrown, naming `what`. */
export function readEngineStream(answer: EngineAnswer, what: string): EngineStreamMessage[] {
  if (answer.status < 200 || answer.status >= 300) {
    let said = answer.body.trim();
    try {
      said = (JSON.parse(said) as { message?: string }).message ?? said;
    } catch {
      // not JSON: keep the text
    }
    throw new BuildkitError(answer.status === 401 || answer.status === 403 ? 'permission-denied' : answer.status === 404 ? 'not-found' : 'unavailable', `${what}: HTTP ${answer.status}: ${said.slice(0, 300)}`);
  }
  const messages: EngineStreamMessage[] = [];
  for (const line of answer.body.split(/\r?\n/)) {
    if (!line.trim()) continue;
    try {
      messages.push(JSON.parse(line) as EngineStreamMessage);
    } catch {
      messages.push({ stream: line });
    }
  }
  const failed = messages.find((m) => m.error || m.errorDetail?.message);
  if (failed) {
    const said = failed.errorDetail?.message ?? failed.error ?? '';
    const code = /unauthorized|authentication required|no basic auth|denied|401|403/i.test(said) ? 'permission-denied' : 'failed-precondition';
    throw new BuildkitError(code, `${what}: ${said}`);
  }
  return messages;
}
