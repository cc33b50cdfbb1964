import { readCredentialIdentity, type CredentialIdentity } from '../../buildkit/index';
import type { ImageTarget } from '../image-target';
import type { TargetCredentials } from './credential-groups';
import { registryUse } from './registry-use';

/**
 * Every target's registry use and credential identity, reading each Docker
 * config once per (options, environment). A target whose config cannot be
 * read fails before its session opens, so it touches no registry here; its
 * build reports the file.
 */
export async function readTargetCredentials(targets: readonly ImageTarget[], dockerfiles: ReadonlyMap<string, string>): Promise<TargetCredentials[]> {
  const identities = new Map<string, Promise<CredentialIdentity | undefined>>();
  const envIds = new Map<object, number>();
  const out: TargetCredentials[] = [];
  for (const t of targets) {
    const auth = t.spec.auth;
    // The same options over the same environment read the same config file.
    const env = (auth ? auth.env : undefined) ?? process.env;
    if (!envIds.has(env)) envIds.set(env, envIds.size);
    const key = auth === false ? 'anonymous' : `${envIds.get(env)}:${auth?.configDir ?? ''}`;
    let identity = identities.get(key);
    if (!identity) identities.set(key, (identity = readCredentialIdentity(auth).catch(() => undefined)));
    const resolved = await identity;
    out.push(resolved ? { id: t.id, use: registryUse(t, dockerfiles.get(t.id)), identity: resolved } : { id: t.id, use: { hosts: new Map(), unknown: [] }, identity: unreadable });
  }
  return out;
}

const unreadable: CredentialIdentity = { hosts: [], everyHost: false, fingerprint: () => 'none', describe: () => 'an unreadable Docker config' };
