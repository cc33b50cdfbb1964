import { createHmac, randomBytes } from 'node:crypto';
import type { AuthProviderOptions } from './auth-provider';
import { credentialSource } from './credential-source';
import type { DockerConfig } from './docker-config';
import { dockerConfigDir, loadDockerConfig, type Environment } from './load-docker-config';
import { dockerHubRegistryHost, hostnameOfConfigKey, isDockerHubKey } from './registry-host';

/**
 * Which registry credentials a session would hand the daemon, per registry
 * host, without running a credential helper: two identities give the same
 * `fingerprint(host)` exactly when they would answer the daemon's
 * Credentials call for `host` from the same source (an `auths` entry with
 * the same user and secrets, or the same helper asked for the same server
 * with the same environment). Used to tell which builds may share the
 * daemon's registry-auth state.
 */
export interface CredentialIdentity {
  /** Hosts with a source of their own (`auths` and `credHelpers` keys), as the daemon names them. */
  readonly hosts: readonly string[];
  /** A `credsStore` answers for every host without its own source. */
  readonly everyHost: boolean;
  /** Opaque, equal for equal credentials; `none` = anonymous. Never contains a secret. */
  fingerprint(host: string): string;
  /** What serves `host`, for `--print` and messages (never a secret). */
  describe(host: string): string;
}

/** The identity of a session that hands out no credentials (`auth: false`). */
export const anonymousIdentity: CredentialIdentity = {
  hosts: [],
  everyHost: false,
  fingerprint: () => 'none',
  describe: () => 'anonymous (auth disabled)',
};

/**
 * Read the Docker config an {@link AuthProvider} with these options would
 * serve and describe its credentials per host. `false` = anonymous. A
 * malformed config is an error naming the file, as for the provider.
 */
export async function readCredentialIdentity(options: AuthProviderOptions | false | undefined): Promise<CredentialIdentity> {
  if (options === false) return anonymousIdentity;
  const env = options?.env ?? process.env;
  const config = await loadDockerConfig(options?.configDir ?? dockerConfigDir(env), { signal: options?.signal });
  return credentialIdentity(config, env);
}

/** {@link CredentialIdentity} of a loaded config; `env` matters only to credential helpers. */
export function credentialIdentity(config: DockerConfig, env: Environment): CredentialIdentity {
  const keys = [...config.auths.map((e) => e.key), ...config.credHelpers.keys()];
  const hosts = [...new Set(keys.map((k) => (isDockerHubKey(k) ? dockerHubRegistryHost : hostnameOfConfigKey(k))))];
  // A helper's answer depends on what it can see: its PATH, HOME and the rest.
  const envDigest = digest(Object.entries(env).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    hosts,
    everyHost: config.credsStore !== undefined,
    fingerprint(host) {
      const source = credentialSource(config, host);
      if (source.kind === 'none') return 'none';
      if (source.kind === 'helper') return `helper:${digest([source.helper, source.serverUrl, envDigest])}`;
      const { username, password, identityToken, registryToken } = source.entry;
      if (!username && !password && !identityToken && !registryToken) return 'none';
      return `entry:${digest([username, password, identityToken, registryToken])}`;
    },
    describe(host) {
      const source = credentialSource(config, host);
      if (source.kind === 'helper') return `credential helper docker-credential-${source.helper}`;
      if (source.kind === 'entry') return `auths entry "${source.entry.key}" of ${config.file ?? 'the Docker config'}`;
      return config.file ? `none in ${config.file} (anonymous)` : 'none (no Docker config, anonymous)';
    },
  };
}

/** Keyed per process, so a fingerprint that ends up somewhere cannot be checked against guessed passwords. */
const fingerprintKey = randomBytes(32);

function digest(value: unknown): string {
  return createHmac('sha256', fingerprintKey).update(JSON.stringify(value)).digest('hex').slice(0, 32);
}
