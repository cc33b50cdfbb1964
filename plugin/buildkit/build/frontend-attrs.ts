import path from 'node:path';
import { BuildkitError } from '../errors';
import type { BuildSpec } from './build-spec';

/** Local names the build's session serves, and what the frontend reads from each. */
export interface LocalNames {
  /** Named contexts of kind `local`: context name → the local name serving its directory. */
  named: Readonly<Record<string, string>>;
  /** Named contexts of kind `oci-layout`: context name → `oci-layout://` reference. */
  ociLayouts: Readonly<Record<string, string>>;
}

/**
 * The `dockerfile.v0` frontend attributes of a build (protocol doc §5.1).
 * Pure: everything comes from the spec and the local names chosen for it.
 */
export function dockerfileFrontendAttrs(spec: BuildSpec, locals: LocalNames): Record<string, string> {
  const attrs: Record<string, string> = { filename: path.basename(spec.dockerfile) };
  if (spec.target) attrs.target = spec.target;
  for (const [k, v] of Object.entries(spec.buildArgs ?? {})) attrs[`build-arg:${k}`] = v;
  for (const [k, v] of Object.entries(spec.labels ?? {})) attrs[`label:${k}`] = v;
  if (spec.platforms?.length) attrs.platform = spec.platforms.join(',');
  if (spec.pull) attrs['image-resolve-mode'] = 'pull';
  if (spec.noCache === true) attrs['no-cache'] = '';
  else if (Array.isArray(spec.noCache) && spec.noCache.length) attrs['no-cache'] = spec.noCache.join(',');
  if (spec.network && spec.network !== 'default') attrs['force-network-mode'] = spec.network;
  if (spec.shmSize !== undefined) attrs['shm-size'] = String(spec.shmSize);
  if (spec.ulimits?.length) attrs.ulimit = spec.ulimits.join(',');
  if (spec.cgroupParent) attrs['cgroup-parent'] = spec.cgroupParent;
  if (spec.provenance) attrs['attest:provenance'] = `mode=${spec.provenance}`;
  // The value is a CSV of key=value like buildx's --attest (minus type=): empty asks for the frontend's default generator.
  if (spec.sbom) attrs['attest:sbom'] = spec.sbom.generator ? `generator=${spec.sbom.generator}` : '';
  const hosts = Object.entries(spec.extraHosts ?? {});
  if (hosts.length) attrs['add-hosts'] = hosts.map(([host, ip]) => `${host}=${ip}`).join(',');
  for (const [name, ctx] of Object.entries(spec.namedContexts ?? {})) {
    if (ctx.kind === 'image') attrs[`context:${name}`] = `docker-image://${ctx.ref}`;
    else if (ctx.kind === 'local') attrs[`context:${name}`] = `local:${required(locals.named[name], name)}`;
    else attrs[`context:${name}`] = required(locals.ociLayouts[name], name);
  }
  return attrs;
}

function required(value: string | undefined, name: string): string {
  if (!value) throw new BuildkitError('internal', `no session source was planned for named context "${name}"`);
  return value;
}
