/**
 * Image references as Docker normalizes them, so that `FROM base`,
 * `FROM base:latest` and `FROM docker.io/library/base:latest` all name the
 * image a project configured as `imageName: 'base'` produces.
 *
 * Written here rather than taken from a library: the npm reference parsers
 * carry registry clients or Docker's whole grammar, and we need only the
 * normalization rules (distribution/reference `ParseNormalizedNamed`): a first
 * component with `.` or `:` or equal to `localhost` is a registry, otherwise
 * the registry is `docker.io`; single-component names on Docker Hub live
 * under `library/`; a missing tag is `latest`.
 */

/** A normalized image reference. */
export interface ImageReference {
  /** `registry/path`, e.g. `docker.io/library/base`. */
  repository: string;
  /** The tag; `latest` when the reference had neither tag nor digest. */
  tag?: string;
  /** `algorithm:hex` when the reference was pinned by digest. */
  digest?: string;
}

const pathComponent = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const tagPattern = /^[\w][\w.-]{0,127}$/;
const digestPattern = /^[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-zA-Z0-9=_-]+$/;
const registryPattern = /^(?:[a-zA-Z0-9-]+(?:\.[a-zA-Z0-9-]+)*|\[[0-9a-fA-F:]+\])(?::\d+)?$/;

/**
 * Parse and normalize an image reference; `undefined` when it is not a valid
 * reference (for instance, it still contains an unexpanded `$ARG`).
 */
export function parseImageReference(ref: string): ImageReference | undefined {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!digestPattern.test(digest)) return undefined;
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(':');
  if (colon > rest.lastIndexOf('/')) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!tagPattern.test(tag)) return undefined;
  }
  const slash = rest.indexOf('/');
  const first = slash >= 0 ? rest.slice(0, slash) : '';
  const hasRegistry = slash >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost');
  let registry = hasRegistry ? first : 'docker.io';
  let path = hasRegistry ? rest.slice(slash + 1) : rest;
  if (registry === 'index.docker.io') registry = 'docker.io';
  if (!registryPattern.test(registry)) return undefined;
  if (registry === 'docker.io' && !path.includes('/')) path = `library/${path}`;
  if (!path.split('/').every((c) => pathComponent.test(c))) return undefined;
  return { repository: `${registry}/${path}`, ...(tag !== undefined || digest === undefined ? { tag: tag ?? 'latest' } : {}), ...(digest ? { digest } : {}) };
}

/**
 * The key under which a tagged reference is matched: `repository:tag`.
 * `undefined` for invalid references and for references pinned by digest,
 * which name fixed content rather than whatever a project builds now.
 */
export function imageMatchKey(ref: string): string | undefined {
  const parsed = parseImageReference(ref);
  if (!parsed || parsed.digest || !parsed.tag) return undefined;
  return `${parsed.repository}:${parsed.tag}`;
}

/**
 * The image repository a project builds when its target sets no `imageName`:
 * the project name, lowercased, without npm's leading `@` (so `@org/api`
 * becomes `org/api`), any character Docker refuses replaced with `-`.
 */
export function defaultImageRepository(projectName: string): string {
  return projectName
    .toLowerCase()
    .replace(/^@/, '')
    .replace(/[^a-z0-9._/-]/g, '-');
}

/**
 * Every `repository:tag` key of the image a project builds, from its target's
 * `imageName` and `tags` options (defaults: the project name and `latest`).
 */
export function projectImageKeys(projectName: string, options: { imageName?: unknown; tags?: unknown }): string[] {
  const repository = typeof options.imageName === 'string' ? options.imageName : defaultImageRepository(projectName);
  const tags = Array.isArray(options.tags) && options.tags.length > 0 ? options.tags.filter((t): t is string => typeof t === 'string') : ['latest'];
  return tags.flatMap((tag) => imageMatchKey(`${repository}:${tag}`) ?? []);
}
