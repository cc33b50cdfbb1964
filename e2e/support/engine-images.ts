import http from 'node:http';
import { engineApiRequest } from '../../plugin/buildkit/index';

/** An answer of the Docker engine API or a registry. */
export interface HttpAnswer {
  status: number;
  body: string;
}

/** One request to a Docker engine's API over its unix socket (what `curl --unix-socket <sock> http://d/…` does). */
export function engineRequest(socketPath: string, method: 'GET' | 'DELETE' | 'POST', path: string): Promise<HttpAnswer> {
  return engineApiRequest({ socketPath }, method, path);
}

/** The engine's images whose name starts with `prefix/`, as `name:tag → image ID`. */
export async function imagesUnder(socketPath: string, prefix: string): Promise<Record<string, string>> {
  const filters = encodeURIComponent(JSON.stringify({ reference: [`${prefix}/*`] }));
  const answer = await engineRequest(socketPath, 'GET', `/images/json?filters=${filters}`);
  if (answer.status !== 200) throw new Error(`listing images: HTTP ${answer.status} ${answer.body}`);
  const out: Record<string, string> = {};
  for (const image of JSON.parse(answer.body) as Array<{ Id: string; RepoTags: string[] | null }>) {
    for (const tag of image.RepoTags ?? []) if (tag.startsWith(`${prefix}/`)) out[tag] = image.Id;
  }
  return out;
}

/** `GET /images/<name>/json`: the image's ID, or undefined when the engine has no such image. */
export async function inspectImage(socketPath: string, name: string): Promise<string | undefined> {
  const answer = await engineRequest(socketPath, 'GET', `/images/${encodeURIComponent(name)}/json`);
  if (answer.status === 404) return undefined;
  if (answer.status !== 200) throw new Error(`inspecting ${name}: HTTP ${answer.status} ${answer.body}`);
  return (JSON.parse(answer.body) as { Id: string }).Id;
}

/** Remove every image named under `prefix/` (best effort: cleanup must not hide a test failure). */
export async function removeImagesUnder(socketPath: string, prefix: string): Promise<void> {
  for (const tag of Object.keys(await imagesUnder(socketPath, prefix).catch(() => ({})))) {
    await engineRequest(socketPath, 'DELETE', `/images/${encodeURIComponent(tag)}?force=1`).catch(() => undefined);
  }
}

/** One plain-HTTP request to a test registry (`127.0.0.1:5000`, anonymous, delete enabled). */
export function registryRequest(registry: string, method: string, path: string, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  const [host, port] = registry.split(':');
  return new Promise((resolve, reject) => {
    const req = http.request({ host, port: Number(port ?? 80), method, path, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const manifestTypes = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** HEAD the manifest by digest: the registry's HTTP status (200 served, 404 gone). */
export async function manifestHead(registry: string, repository: string, reference: string): Promise<number> {
  return (await registryRequest(registry, 'HEAD', `/v2/${repository}/manifests/${reference}`, { accept: manifestTypes })).status;
}

/** Delete a manifest by digest (the registry answers 202). */
export async function deleteManifest(registry: string, repository: string, digest: string): Promise<number> {
  return (await registryRequest(registry, 'DELETE', `/v2/${repository}/manifests/${digest}`)).status;
}

/** The manifest digest a test registry serves for `repository:reference` (HEAD), or undefined when it serves none. */
export async function registryDigest(registry: string, repository: string, reference: string): Promise<string | undefined> {
  const answer = await new Promise<{ status: number; digest?: string }>((resolve, reject) => {
    const [host, port] = registry.split(':');
    const req = http.request({ host, port: Number(port ?? 80), method: 'HEAD', path: `/v2/${repository}/manifests/${reference}`, headers: { accept: manifestTypes } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, digest: res.headers['docker-content-digest'] as string | undefined }));
    });
    req.on('error', reject);
    req.end();
  });
  return answer.status === 200 ? answer.digest : undefined;
}

/** The tags a test registry lists for `repository` (none when it does not know the repository). */
export async function registryTags(registry: string, repository: string): Promise<string[]> {
  const answer = await registryRequest(registry, 'GET', `/v2/${repository}/tags/list`);
  if (answer.status === 404) return [];
  if (answer.status !== 200) throw new Error(`listing tags of ${repository}: HTTP ${answer.status} ${answer.body}`);
  return ((JSON.parse(answer.body) as { tags: string[] | null }).tags ?? []).sort();
}
