import type { AuthProvider } from '../attachables/auth/auth-provider';
import { registryHostOfImage } from '../attachables/auth/registry-host';
import { BuildkitError } from '../errors';
import type { DockerEndpoint } from '../transport/builder-address';
import { engineApiRequest, readEngineStream } from '../transport/engine-api';

/** Silence allowed on the engine's push stream (it reports every layer as it goes). */
const pushIdleTimeoutMs = 120_000;

/**
 * Push an image the engine holds (just stored by the `moby` exporter)
 * through the engine itself, `POST /images/<repo>/push?tag=<tag>`, as
 * buildx's docker driver does on the classic image store. The credentials
 * are the build's own: what its session's auth provider would hand the
 * daemon for that registry, sent as `X-Registry-Auth`. Returns the manifest
 * digest the registry accepted (the stream's final `aux.Digest`).
 */
export async function pushThroughEngine(endpoint: DockerEndpoint, name: string, auth: AuthProvider | undefined, signal?: AbortSignal): Promise<string> {
  const { repository, tag } = splitTag(name);
  const host = registryHostOfImage(repository);
  const creds = await auth?.credentials(host);
  // The JSON docker/cli sends, `{}` being anonymous, in Go's base64.URLEncoding:
  // URL-safe alphabet WITH padding (engines before 25 reject it unpadded).
  const header = Buffer.from(
    JSON.stringify(creds ? (creds.username ? { username: creds.username, password: creds.secret, serveraddress: host } : { identitytoken: creds.secret, serveraddress: host }) : {}),
  )
    .toString('base64')
    .replace(/\+/g, '-')
    .replace(/\//g, '_');
  const answer = await engineApiRequest(endpoint, 'POST', `/images/${repository}/push?tag=${encodeURIComponent(tag)}`, {
    signal,
    timeoutMs: pushIdleTimeoutMs,
    headers: { 'X-Registry-Auth': header },
  });
  const messages = readEngineStream(answer, `pushing ${name} through the Docker engine`);
  const digest = messages.map((m) => m.aux?.Digest).find((d): d is string => typeof d === 'string');
  if (!digest) throw new BuildkitError('protocol', `pushing ${name} through the Docker engine: the engine reported no digest`);
  return digest;
}

/** `host:5000/repo:tag` → repository and tag (default `latest`); a `:` before the last `/` is a port. */
function splitTag(name: string): { repository: string; tag: string } {
  const at = name.indexOf('@');
  if (at >= 0) throw new BuildkitError('invalid-argument', `cannot push ${name}: a name with a digest cannot be pushed, give a tag`);
  const colon = name.lastIndexOf(':');
  if (colon > name.lastIndexOf('/')) return { repository: name.slice(0, colon), tag: name.slice(colon + 1) };
  return { repository: name, tag: 'latest' };
}
