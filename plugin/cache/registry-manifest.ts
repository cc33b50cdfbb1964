import http from 'node:http';
import https from 'node:https';
import { parseWwwAuthenticate } from './www-authenticate';

/** A manifest to look for: `HEAD /v2/<path>/manifests/<digest>` on `registry`. */
export interface ManifestRef {
  /** Registry host as in the image name (`docker.io`, `127.0.0.1:5000`, `ghcr.io`). */
  registry: string;
  /** Repository path inside the registry (`library/app`, `team/app`). */
  path: string;
  digest: string;
}

/** Username and secret for a registry; an empty username means `secret` is an identity (refresh) token. */
export interface RegistryLogin {
  username: string;
  secret: string;
}

/** How to reach the registry. */
export interface ManifestLookupOptions {
  /** Plain HTTP first (then HTTPS without certificate checks), as BuildKit's `registry.insecure` pushes. */
  insecure: boolean;
  /** Asked only when the registry demands credentials. */
  login?: () => Promise<RegistryLogin | undefined>;
  /** Per request. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** `present`/`missing` are the registry's answer; `unverified` says why there was none. */
export type ManifestStatus = { state: 'present' } | { state: 'missing' } | { state: 'unverified'; reason: string };

/** Every manifest media type a push can produce; without them a registry may refuse to serve an index or OCI manifest. */
const manifestMediaTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Docker Hub's images are named `docker.io/…`, its registry API lives here. */
const dockerHubApiHost = 'registry-1.docker.io';

/**
 * Ask a registry whether it still serves a manifest, by digest, with the
 * distribution API's `HEAD /v2/<name>/manifests/<digest>`: 200 present, 404
 * missing. A 401 is answered as the challenge asks (Basic credentials, or a
 * Bearer token from the challenge's realm with `repository:<name>:pull`
 * scope). Anything else, or no answer, is `unverified` with the reason;
 * nothing here throws except on abort.
 */
export async function manifestStatus(ref: ManifestRef, options: ManifestLookupOptions): Promise<ManifestStatus> {
  const host = ref.registry === 'docker.io' ? dockerHubApiHost : ref.registry;
  const schemes: Array<'http' | 'https'> = options.insecure ? ['http', 'https'] : ['https'];
  let last: ManifestStatus = { state: 'unverified', reason: 'no attempt' };
  for (const scheme of schemes) {
    last = await lookUp(`${scheme}://${host}/v2/${ref.path}/manifests/${ref.digest}`, host, ref, options);
    // An insecure registry may still speak TLS (a self-signed certificate): then plain HTTP gets no answer or a 400.
    if (last.state !== 'unverified' || !/^(network|HTTP 400)/.test(last.reason)) return last;
  }
  return last;
}

async function lookUp(url: string, host: string, ref: ManifestRef, options: ManifestLookupOptions): Promise<ManifestStatus> {
  // Certificate checks are skipped only for the registry the user marked insecure, never for a token realm elsewhere.
  const skipTlsCheck = (u: string) => options.insecure && new URL(u).host === host;
  const first = await request(url, 'HEAD', { accept: manifestMediaTypes }, options, skipTlsCheck(url));
  if ('error' in first) return { state: 'unverified', reason: `network: ${first.error}` };
  if (first.status !== 401) return verdict(first.status);

  const challenge = parseWwwAuthenticate(first.headers['www-authenticate'] ?? '').find((c) => c.scheme === 'bearer' || c.scheme === 'basic');
  if (!challenge) return { state: 'unverified', reason: 'HTTP 401 without a Basic or Bearer challenge' };
  let login: RegistryLogin | undefined;
  try {
    login = await options.login?.();
  } catch (err) {
    return { state: 'unverified', reason: `credentials: ${(err as Error).message}` };
  }
  let authorization: string;
  if (challenge.scheme === 'basic') {
    if (!login || !login.username) return { state: 'unverified', reason: 'HTTP 401: the registry wants credentials and the Docker config has none for it' };
    authorization = `Basic ${Buffer.from(`${login.username}:${login.secret}`).toString('base64')}`;
  } else {
    const token = await bearerToken(challenge.params, ref.path, login, options, skipTlsCheck);
    if (typeof token !== 'string') return token;
    authorization = `Bearer ${token}`;
  }
  const second = await request(url, 'HEAD', { accept: manifestMediaTypes, authorization }, options, skipTlsCheck(url));
  if ('error' in second) return { state: 'unverified', reason: `network: ${second.error}` };
  return verdict(second.status);
}

function verdict(status: number): ManifestStatus {
  if (status === 200) return { state: 'present' };
  if (status === 404) return { state: 'missing' };
  return { state: 'unverified', reason: `HTTP ${status}` };
}

/** A token for `repository:<path>:pull` from the Bearer challenge's realm (the distribution token protocol). */
async function bearerToken(
  params: Record<string, string>,
  path: string,
  login: RegistryLogin | undefined,
  options: ManifestLookupOptions,
  skipTlsCheck: (url: string) => boolean,
): Promise<string | ManifestStatus> {
  if (!params['realm']) return { state: 'unverified', reason: 'Bearer challenge without a realm' };
  let url: URL;
  try {
    url = new URL(params['realm']);
  } catch {
    return { state: 'unverified', reason: 'Bearer challenge with an invalid realm' };
  }
  const scope = `repository:${path}:pull`;
  let answer: Answer | { error: string };
  if (login && !login.username) {
    // An identity token is a refresh token for the OAuth2 form of the token protocol.
    const form = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: login.secret, service: params['service'] ?? '', scope, client_id: 'nx-buildkit' });
    answer = await request(url.toString(), 'POST', { 'content-type': 'application/x-www-form-urlencoded' }, options, skipTlsCheck(url.toString()), form.toString());
  } else {
    if (params['service']) url.searchParams.set('service', params['service']);
    url.searchParams.set('scope', scope);
    const headers: Record<string, string> = login ? { authorization: `Basic ${Buffer.from(`${login.username}:${login.secret}`).toString('base64')}` } : {};
    answer = await request(url.toString(), 'GET', headers, options, skipTlsCheck(url.toString()));
  }
  if ('error' in answer) return { state: 'unverified', reason: `network (token): ${answer.error}` };
  if (answer.status !== 200) return { state: 'unverified', reason: `token endpoint answered HTTP ${answer.status}` };
  try {
    const body = JSON.parse(answer.body) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (token) return token;
  } catch {
    // Reported below.
  }
  return { state: 'unverified', reason: 'token endpoint answered without a token' };
}

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: string;
}

/** Largest body read (token responses); more is cut off, manifests are never read (HEAD). */
const maxBodyBytes = 1 << 20;

/** One HTTP(S) request; failures come back as `{ error }` (abort still throws). */
function request(
  url: string,
  method: string,
  headers: Record<string, string>,
  options: ManifestLookupOptions,
  skipTlsCheck: boolean,
  body?: string,
): Promise<Answer | { error: string }> {
  options.signal?.throwIfAborted();
  const target = new URL(url);
  const client = target.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = client.request(
      target,
      {
        method,
        headers: { 'user-agent': 'nx-buildkit', ...headers, ...(body !== undefined ? { 'content-length': Buffer.byteLength(body) } : {}) },
        timeout: options.timeoutMs,
        ...(target.protocol === 'https:' && skipTlsCheck ? { rejectUnauthorized: false } : {}),
        ...(options.signal ? { signal: options.signal } : {}),
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size <= maxBodyBytes) chunks.push(chunk);
        });
        res.on('end', () => {
          const flat: Record<string, string | undefined> = {};
          for (const [k, v] of Object.entries(res.headers)) flat[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers: flat, body: Buffer.concat(chunks).toString('utf8') });
        });
        res.on('error', (err) => resolve({ error: err.message }));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    req.on('error', (err) => (options.signal?.aborted ? reject(options.signal.reason) : resolve({ error: err.message })));
    req.end(body);
  });
}
