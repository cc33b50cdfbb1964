import { imageMatchKey, projectImageKeys } from '../config/image-reference';
import { parseNamedContextValue } from '../config/named-context-value';
import { parseDockerfileReferences, type DockerfileReference } from '../dockerfile/dockerfile-references';

/** A project that builds an image, as far as dependency inference needs to know it. */
export interface ImageProject {
  name: string;
  /** The image target's options, as configured (not validated). */
  options: Record<string, unknown>;
}

/** Another project's image that a Dockerfile or a named context uses. */
export type ImageDependency = (DockerfileReference | { ref: string; kind: 'named-context'; name: string }) & { project: string };

/**
 * Which project builds which image: `repository:tag` keys (see
 * {@link imageMatchKey}) from every image project's `imageName` and `tags`.
 */
export class ImageIndex {
  private readonly byKey = new Map<string, string[]>();
  private readonly names = new Set<string>();

  constructor(projects: Iterable<ImageProject>) {
    for (const p of projects) {
      this.names.add(p.name);
      for (const key of projectImageKeys(p.name, p.options)) {
        const names = this.byKey.get(key) ?? [];
        if (!names.includes(p.name)) names.push(p.name);
        this.byKey.set(key, names);
      }
    }
  }

  /** Whether `project` builds an image. */
  hasProject(project: string): boolean {
    return this.names.has(project);
  }

  /** The projects whose image `ref` names; several only when projects share an image name. */
  projectsBuilding(ref: string): readonly string[] {
    const key = imageMatchKey(ref);
    return (key && this.byKey.get(key)) || [];
  }
}

/**
 * The images of other workspace projects that `dockerfile` (the text of
 * `self`'s Dockerfile) uses. A reference that a named context of `self`
 * replaces is skipped: BuildKit takes the named context instead of the
 * image. Named contexts count themselves: `target:<project>` (buildx bake's
 * way to name another target's result) and `docker-image://<ref>` of another
 * project's image.
 */
export function findImageDependencies(dockerfile: string, self: ImageProject, index: ImageIndex): ImageDependency[] {
  const replaced = namedContextKeys(self.options.namedContexts);
  const out: ImageDependency[] = [];
  for (const ref of parseDockerfileReferences(dockerfile)) {
    if (replaced.has(ref.ref) || replaced.has(imageMatchKey(ref.ref) ?? '')) continue;
    for (const project of index.projectsBuilding(ref.ref)) {
      if (project !== self.name) out.push({ ...ref, project });
    }
  }
  const named = self.options.namedContexts;
  if (named && typeof named === 'object') {
    for (const [name, value] of Object.entries(named as Record<string, unknown>)) {
      const parsed = typeof value === 'string' ? parseNamedContextValue(value) : undefined;
      const projects =
        parsed?.kind === 'target' ? [parsed.task.split(':')[0]!].filter((p) => index.hasProject(p))
        : parsed?.kind === 'image' ? index.projectsBuilding(parsed.ref)
        : [];
      for (const project of projects) if (project !== self.name) out.push({ ref: value as string, kind: 'named-context', name, project });
    }
  }
  return out;
}

function namedContextKeys(namedContexts: unknown): Set<string> {
  const keys = new Set<string>();
  if (!namedContexts || typeof namedContexts !== 'object') return keys;
  for (const name of Object.keys(namedContexts)) {
    keys.add(name);
    const key = imageMatchKey(name);
    if (key) keys.add(key);
  }
  return keys;
}

/** The projects of {@link findImageDependencies}, each once, sorted. */
export function dependencyProjects(deps: readonly ImageDependency[]): string[] {
  return [...new Set(deps.map((d) => d.project))].sort();
}
