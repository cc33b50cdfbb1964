import { imageMatchKey } from '../../config/image-reference';
import { parseDockerfileReferences, type DockerfileReference } from '../../dockerfile/dockerfile-references';
import type { ImageTarget } from '../image-target';
import { namedContextKey } from './named-context-key';

/**
 * Target `from` is built FROM target `to`'s image: in this run it must use
 * exactly the result `to` builds, linked inside the daemon (or by `to`'s
 * pushed digest), never whatever a registry or the engine held before.
 */
export interface ImageLink {
  /** The dependant (the target whose Dockerfile names the image). */
  from: string;
  /** The target that builds that image in this run. */
  to: string;
  /** The references in `from`'s Dockerfile that name `to`'s image, as written. */
  refs: readonly DockerfileReference[];
  /** Names of `from`'s image-kind named contexts whose image is `to`'s. */
  namedContexts: readonly string[];
}

/**
 * Find every image→image link of a run. `dockerfiles` holds the text of
 * each target's Dockerfile by target id (a target missing there has no
 * references; its build reports the unreadable file itself). A reference
 * matches a target when it normalizes to one of the target's `imageNames`
 * (Docker's rules: `base` = `docker.io/library/base:latest`). Skipped: a
 * target's references to its own image, references a named context of the
 * dependant replaces (the frontend takes the named context, as the Nx
 * plugin's dependency inference assumes), and names several targets of the
 * run build (which one would be a guess; the dependant's `dependsOn`
 * decides when it names exactly one of them). Pure.
 */
export function planLinks(targets: readonly ImageTarget[], dockerfiles: ReadonlyMap<string, string>): ImageLink[] {
  const builders = new Map<string, string[]>();
  for (const t of targets) {
    for (const name of t.imageNames ?? []) {
      const key = imageMatchKey(name);
      if (!key) continue;
      const ids = builders.get(key) ?? [];
      if (!ids.includes(t.id)) ids.push(t.id);
      builders.set(key, ids);
    }
  }
  const builderOf = (ref: string, self: ImageTarget): string | undefined => {
    const key = imageMatchKey(ref);
    const ids = ((key && builders.get(key)) || []).filter((id) => id !== self.id);
    if (ids.length <= 1) return ids[0];
    const declared = ids.filter((id) => self.dependsOn.includes(id));
    return declared.length === 1 ? declared[0] : undefined;
  };
  const links: ImageLink[] = [];
  for (const t of targets) {
    const named = t.spec.namedContexts ?? {};
    const replaced = new Set(Object.keys(named).map((n) => namedContextKey(n) ?? n));
    const byTarget = new Map<string, { refs: DockerfileReference[]; namedContexts: string[] }>();
    const entry = (to: string) => byTarget.get(to) ?? byTarget.set(to, { refs: [], namedContexts: [] }).get(to)!;
    const text = dockerfiles.get(t.id);
    for (const ref of text === undefined ? [] : parseDockerfileReferences(text)) {
      if (replaced.has(namedContextKey(ref.ref) ?? ref.ref)) continue;
      // A FROM resolved from build-arg defaults orders the build (plugin/nodes) but is not linked: a build arg
      // may name another image, and BuildKit 0.8's rewrite needs the name as written.
      if (ref.fromArgDefaults) continue;
      const to = builderOf(ref.ref, t);
      if (to) entry(to).refs.push(ref);
    }
    for (const [name, ctx] of Object.entries(named)) {
      const to = ctx.kind === 'image' ? builderOf(ctx.ref, t) : undefined;
      if (to) entry(to).namedContexts.push(name);
    }
    for (const [to, found] of byTarget) links.push({ from: t.id, to, ...found });
  }
  return links;
}

/**
 * The targets with every link made a dependency too: a dependant waits for
 * the target it is linked to even when nobody declared `dependsOn`.
 */
export function withLinkDependencies(targets: readonly ImageTarget[], links: readonly ImageLink[]): ImageTarget[] {
  return targets.map((t) => {
    const extra = links.filter((l) => l.from === t.id && !t.dependsOn.includes(l.to)).map((l) => l.to);
    return extra.length ? { ...t, dependsOn: [...t.dependsOn, ...new Set(extra)] } : t;
  });
}
