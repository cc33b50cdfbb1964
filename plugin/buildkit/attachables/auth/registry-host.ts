/**
 * Registry host names as the daemon sends them and as Docker config files
 * key them. The daemon asks for credentials by the bare host of the image
 * reference (`127.0.0.1:5001`, `ghcr.io`, and `registry-1.docker.io` for
 * Docker Hub); config files written by `docker login` key entries by the
 * server address the user logged in to (`https://index.docker.io/v1/` for
 * Docker Hub, `host:port`, sometimes `https://host/v1/` or `http://host`).
 */

/** The key `docker login` uses for Docker Hub (protocol doc §3.6). */
export const dockerHubConfigKey = 'https://index.docker.io/v1/';

/** The host the daemon asks about when it pulls from Docker Hub. */
export const dockerHubRegistryHost = 'registry-1.docker.io';

/** Other names Docker Hub config entries are found under (hostname form). */
const dockerHubAliases = new Set(['index.docker.io', 'docker.io', 'registry-1.docker.io']);

/** The config key to look `host` up by: Docker Hub's legacy URL, otherwise the host itself. */
export function configKeyForHost(host: string): string {
  return host === dockerHubRegistryHost ? dockerHubConfigKey : host;
}

/**
 * The `host[:port]` a config key names: scheme, user info and path dropped
 * (`https://host:5000/v1/` → `host:5000`, `http://host` → `host`,
 * `host/path` → `host`). Written by hand rather than with `URL` because WHATWG
 * URL parsing drops explicit default ports (`:443`), which docker/cli keeps.
 */
export function hostnameOfConfigKey(key: string): string {
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(key);
  if (!scheme) return key.split('/', 1)[0]!;
  let authority = key.slice(scheme[0].length).split(/[/?#]/, 1)[0]!;
  const at = authority.lastIndexOf('@');
  if (at >= 0) authority = authority.slice(at + 1);
  if (authority === '') return key.split('/', 1)[0]!;
  // A bracketed IPv6 literal without a port is named without its brackets, as docker/cli does.
  const bracketed = /^\[([^\]]+)\]$/.exec(authority);
  return bracketed ? bracketed[1]! : authority;
}

/** Whether a config key names Docker Hub under any of its usual spellings. */
export function isDockerHubKey(key: string): boolean {
  return key === dockerHubConfigKey || dockerHubAliases.has(hostnameOfConfigKey(key));
}

/**
 * The registry host of an image name as the daemon asks for its credentials:
 * the first path component when it looks like a host (has a `.` or `:`, or is
 * `localhost`), else Docker Hub's `registry-1.docker.io`.
 */
export function registryHostOfImage(name: string): string {
  const slash = name.indexOf('/');
  const first = slash < 0 ? '' : name.slice(0, slash);
  if (first && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return dockerHubRegistryHost;
}
