/**
 * Git remote URLs as they appear in `.git/config` and `package.json`,
 * turned into something safe to publish in an image label.
 *
 * CI systems often embed a token in the clone URL (GitLab's
 * `https://gitlab-ci-token:<token>@…`, GitHub's `x-access-token:<token>@…`);
 * a label is public, so credentials never survive these functions.
 */

/** `user@host:path` (scp-like syntax), which `new URL` cannot parse. */
const SCP_LIKE = /^(?:([^@/:]+)@)?([^/:]+):(?!\/\/)(.+)$/;

/** Schemes whose remotes have a browsable web page on the same host. */
const SSH_OR_GIT = new Set(['ssh:', 'git+ssh:', 'ssh+git:', 'git:']);
const WEB = new Set(['https:', 'http:', 'git+https:', 'git+http:']);

/**
 * The remote URL without credentials: userinfo is removed from http(s)
 * URLs (a token may be the user name alone), and the password from
 * ssh URLs (the `git@` user is no secret). Local paths pass unchanged.
 */
export function stripCredentials(remote: string): string {
  if (SCP_LIKE.test(remote) && !looksLikeUrl(remote)) return remote;
  const url = tryUrl(remote);
  if (!url) return remote;
  if (WEB.has(url.protocol)) {
    url.username = '';
    url.password = '';
  } else {
    url.password = '';
  }
  return url.toString();
}

/**
 * The https (or http, when the remote is plain http) web address of a
 * repository remote, or `undefined` for local paths and `file:` URLs:
 *
 * - `git@github.com:org/repo.git` → `https://github.com/org/repo`
 * - `ssh://git@host:2222/org/repo.git` → `https://host/org/repo` (the ssh port is not the web port)
 * - `https://token@host/org/repo.git/` → `https://host/org/repo`
 */
export function gitRemoteToWebUrl(remote: string): string | undefined {
  const trimmed = remote.trim();
  if (!looksLikeUrl(trimmed)) {
    const scp = SCP_LIKE.exec(trimmed);
    // A one-letter "host" is a Windows drive (C:\repo), not a remote.
    if (!scp || scp[2]!.length === 1) return undefined;
    return webUrl('https:', scp[2]!, scp[3]!);
  }
  const url = tryUrl(trimmed);
  if (!url || url.hostname === '') return undefined;
  if (SSH_OR_GIT.has(url.protocol)) return webUrl('https:', url.hostname, url.pathname);
  if (WEB.has(url.protocol)) {
    const scheme = url.protocol.endsWith('http:') ? 'http:' : 'https:';
    return webUrl(scheme, url.host, url.pathname);
  }
  return undefined;
}

function webUrl(scheme: string, host: string, path: string): string | undefined {
  const clean = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/, '');
  if (clean === '') return undefined;
  return `${scheme}//${host}/${clean}`;
}

function looksLikeUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

function tryUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}
