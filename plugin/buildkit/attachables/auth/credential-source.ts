import type { DockerConfig, RegistryAuthEntry } from './docker-config';
import { configKeyForHost, dockerHubConfigKey, hostnameOfConfigKey, isDockerHubKey } from './registry-host';

/** Where the credentials of one registry host come from. */
export type CredentialSource =
  /** Run `docker-credential-<helper> get` with `serverUrl` on stdin. */
  | { kind: 'helper'; helper: string; serverUrl: string }
  /** An `auths` entry of the config file. */
  | { kind: 'entry'; entry: RegistryAuthEntry }
  /** Nothing configured: anonymous. */
  | { kind: 'none' };

/**
 * Decide where the credentials of `host` (as the daemon names it) come from,
 * in docker/cli's order: a per-registry `credHelpers` entry, else `credsStore`
 * (which then answers alone, as with docker/cli), else the `auths` entries.
 * Keys match exactly first, then by their `host[:port]`, so `https://host/v1/`,
 * `http://host` and `host` all serve `host`; Docker Hub also answers to its
 * usual aliases (`docker.io`, `index.docker.io`).
 */
export function credentialSource(config: DockerConfig, host: string): CredentialSource {
  const key = configKeyForHost(host);
  const helper = lookup(config.credHelpers.entries(), key) ?? config.credsStore;
  if (helper) return { kind: 'helper', helper, serverUrl: key };
  const entry = lookup(config.auths.map((e) => [e.key, e] as const), key);
  return entry ? { kind: 'entry', entry } : { kind: 'none' };
}

function lookup<T>(entries: Iterable<readonly [string, T]>, key: string): T | undefined {
  const list = [...entries];
  const exact = list.find(([k]) => k === key);
  if (exact) return exact[1];
  const matches = key === dockerHubConfigKey ? isDockerHubKey : (k: string) => hostnameOfConfigKey(k) === key;
  return list.find(([k]) => matches(k))?.[1];
}
