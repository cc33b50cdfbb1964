import { parseImageReference } from '../../config/image-reference';
import { parseDockerfileImageUse } from '../../dockerfile/dockerfile-references';
import type { ImageTarget } from '../image-target';
import { namedContextKey } from '../links/named-context-key';

/** The host the daemon names when it asks a session for Docker Hub's credentials. */
const dockerHubHost = 'registry-1.docker.io';

/** The registries one target's build may make the daemon talk to, and why. */
export interface RegistryUse {
  /** Registry host (as the daemon names it when it asks for credentials) → what makes the build use it. */
  hosts: Map<string, string[]>;
  /**
   * References whose registry is known only at build time (`FROM $BASE`,
   * a build-arg `BUILDKIT_SYNTAX`): the build may touch any registry.
   */
  unknown: string[];
}

/**
 * Where a target's build may fetch or send images: the Dockerfile's bases,
 * `COPY --from`/`RUN --mount` images and `# syntax=` frontend,
 * `docker-image://` named contexts, registry cache imports and exports, and
 * pushed names. `dockerfile` is the Dockerfile's text (undefined when it
 * could not be read: its build fails before any pull). Pure.
 */
export function registryUse(target: ImageTarget, dockerfile: string | undefined): RegistryUse {
  const hosts = new Map<string, string[]>();
  const unknown: string[] = [];
  const add = (ref: string, why: string) => {
    const host = registryHostOf(ref);
    if (host === undefined) unknown.push(`${ref} (${why})`);
    else hosts.set(host, [...(hosts.get(host) ?? []), why]);
  };
  const spec = target.spec;
  // A named context replaces the reference it is named after: the frontend never resolves that one.
  const replaced = new Set(Object.keys(spec.namedContexts ?? {}).map((n) => namedContextKey(n) ?? n));
  if (dockerfile !== undefined) {
    const use = parseDockerfileImageUse(dockerfile);
    if (use.syntax) add(use.syntax, '# syntax');
    for (const r of use.refs) if (!replaced.has(namedContextKey(r.ref) ?? r.ref)) add(r.ref, `${r.kind === 'from' ? 'FROM' : r.kind === 'copy-from' ? 'COPY --from' : 'RUN --mount from'} line ${r.line}`);
    for (const r of use.dynamic) unknown.push(`${r.ref} (line ${r.line})`);
  }
  if (spec.buildArgs?.['BUILDKIT_SYNTAX']) add(spec.buildArgs['BUILDKIT_SYNTAX'], 'build arg BUILDKIT_SYNTAX');
  for (const [name, ctx] of Object.entries(spec.namedContexts ?? {})) if (ctx.kind === 'image') add(ctx.ref, `named context ${name}`);
  for (const c of spec.cacheFrom ?? []) if (c.type === 'registry' && c.attrs.ref) add(c.attrs.ref, 'cache-from');
  for (const c of spec.cacheTo ?? []) if (c.type === 'registry' && c.attrs.ref) add(c.attrs.ref, 'cache-to');
  for (const o of spec.outputs ?? []) if (o.type === 'image' && o.push) for (const n of o.names) add(n, 'push');
  return { hosts, unknown };
}

/** The registry host of an image reference as the daemon names it; undefined when the reference is not valid. */
export function registryHostOf(ref: string): string | undefined {
  const parsed = parseImageReference(ref.replace(/^docker-image:\/\//, ''));
  if (!parsed) return undefined;
  const host = parsed.repository.slice(0, parsed.repository.indexOf('/'));
  return host === 'docker.io' ? dockerHubHost : host;
}
