import { BuildkitError } from '../buildkit/foundation';

/**
 * Image references (`[registry/]path[:tag][@digest]`), parsed with the
 * grammar and Docker Hub defaults of Docker's reference library, so that a
 * Dockerfile's `FROM app` and another project's configured image
 * `docker.io/library/app` are recognised as the same repository.
 *
 * Written here rather than taken from npm: the few parsers published there
 * either skip the Docker Hub normalisation rules or accept names Docker
 * refuses; the grammar is small and fixed.
 */

/** The registry a reference without a registry part points at. */
export const DEFAULT_REGISTRY = 'docker.io';
/** Docker Hub's historical index host; Docker treats it as `docker.io`. */
const LEGACY_REGISTRY = 'index.docker.io';
/** Namespace of Docker Hub's official images (`nginx` is `library/nginx`). */
const OFFICIAL_NAMESPACE = 'library/';
/** Docker's limit on the length of a repository name (registry/path as written). */
const MAX_NAME_LENGTH = 255;

// The grammar of Docker's reference library (distribution/reference), rebuilt
// from its documented productions.
const PATH_COMPONENT = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*$/;
const DOMAIN_COMPONENT = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const DOMAIN = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const TAG = /^[\w][\w.-]{0,127}$/;
const DIGEST = /^([A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*):([0-9a-fA-F]{32,})$/;
/** A bare 64-hex string is an image ID, which Docker refuses as a name. */
const IMAGE_ID = /^[a-f0-9]{64}$/;
/** Hex length of each digest algorithm an OCI registry accepts. */
const DIGEST_HEX_LENGTH: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };

/** A parsed and normalized image reference. */
export interface ImageReference {
  /** Registry host with optional port; `docker.io` when the reference names none. */
  registry: string;
  /** Repository path in the registry; `library/` is added for single-component Docker Hub names. */
  path: string;
  /** `registry/path`: the normalized repository name. */
  repository: string;
  /** The tag, when the reference has one (no default is filled in here). */
  tag?: string;
  /** The digest (`sha256:…`), when the reference has one. */
  digest?: string;
}

/** True when `tag` matches Docker's tag grammar `[\w][\w.-]{0,127}`. */
export function isValidTag(tag: string): boolean {
  return TAG.test(tag);
}

/**
 * Parse an image reference and fill in Docker's defaults: registry
 * `docker.io` (also for `index.docker.io`) and the `library/` namespace for
 * single-component Docker Hub names. The tag stays absent when not written;
 * {@link normalizeImageReference} adds `latest`.
 * Throws a `BuildkitError` (`invalid-argument`) saying what is wrong.
 */
export function parseImageReference(reference: string): ImageReference {
  const fail = (why: string): never => {
    throw new BuildkitError('invalid-argument', `invalid image reference "${reference}": ${why}`);
  };
  if (reference === '') fail('it is empty');
  if (/\s/.test(reference)) fail('it contains whitespace');
  if (IMAGE_ID.test(reference)) fail('a 64-character hexadecimal string is an image ID, not a name');

  const at = reference.indexOf('@');
  const named = at === -1 ? reference : reference.slice(0, at);
  const digest = at === -1 ? undefined : reference.slice(at + 1);
  // The tag separator is the last ':' after the last '/'; an earlier ':' is a registry port.
  const colon = named.lastIndexOf(':');
  const hasTag = colon > named.lastIndexOf('/');
  const name = hasTag ? named.slice(0, colon) : named;
  const tag = hasTag ? named.slice(colon + 1) : undefined;

  if (name === '') fail('the repository name is empty');
  if (name.length > MAX_NAME_LENGTH) fail(`the repository name is longer than ${MAX_NAME_LENGTH} characters`);
  const { registry, path } = splitRegistry(name);
  if (registry !== DEFAULT_REGISTRY && !DOMAIN.test(registry)) fail(`"${registry}" is not a valid registry host[:port]`);
  if (path.toLowerCase() !== path) fail(`the repository name "${path}" must be lowercase`);
  for (const component of path.split('/')) {
    if (!PATH_COMPONENT.test(component)) {
      fail(component === '' ? 'the repository path has an empty component' : `"${component}" is not a valid repository path component (lowercase letters, digits, and single separators . _ __ - between them)`);
    }
  }
  if (tag !== undefined && !TAG.test(tag)) fail(`"${tag}" is not a valid tag (up to 128 of [A-Za-z0-9_.-], not starting with . or -)`);
  if (digest !== undefined) validateDigest(digest, fail);

  const result: ImageReference = { registry, path, repository: `${registry}/${path}` };
  if (tag !== undefined) result.tag = tag;
  if (digest !== undefined) result.digest = digest;
  return result;
}

/**
 * The fully qualified form of a reference: `registry/path:tag[@digest]`,
 * with `:latest` added when the reference has neither tag nor digest
 * (as Docker does). Accepts a string (parsed first) or a parsed reference.
 */
export function normalizeImageReference(reference: string | ImageReference): string {
  const ref = typeof reference === 'string' ? parseImageReference(reference) : reference;
  const tag = ref.tag ?? (ref.digest === undefined ? 'latest' : undefined);
  return `${ref.repository}${tag !== undefined ? `:${tag}` : ''}${ref.digest !== undefined ? `@${ref.digest}` : ''}`;
}

/**
 * True when two references name the same repository, ignoring tag and
 * digest: `app`, `docker.io/library/app:1` and `index.docker.io/library/app`
 * all match. Registry hosts compare case-insensitively (they are DNS names).
 * Throws like {@link parseImageReference} when a string is not a valid reference.
 */
export function sameRepository(a: string | ImageReference, b: string | ImageReference): boolean {
  const ra = typeof a === 'string' ? parseImageReference(a) : a;
  const rb = typeof b === 'string' ? parseImageReference(b) : b;
  return ra.registry.toLowerCase() === rb.registry.toLowerCase() && ra.path === rb.path;
}

/**
 * Docker's rule for telling a registry from a namespace: the first component
 * is a registry when it contains `.` or `:`, is `localhost`, or has an
 * uppercase letter (a path never may); otherwise the whole name is a Docker
 * Hub path.
 */
function splitRegistry(name: string): { registry: string; path: string } {
  const slash = name.indexOf('/');
  const first = slash === -1 ? '' : name.slice(0, slash);
  const isRegistry = slash !== -1 && (/[.:]/.test(first) || first === 'localhost' || first.toLowerCase() !== first);
  let registry = isRegistry ? first : DEFAULT_REGISTRY;
  let path = isRegistry ? name.slice(slash + 1) : name;
  if (registry === LEGACY_REGISTRY) registry = DEFAULT_REGISTRY;
  if (registry === DEFAULT_REGISTRY && !path.includes('/')) path = OFFICIAL_NAMESPACE + path;
  return { registry, path };
}

function validateDigest(digest: string, fail: (why: string) => never): void {
  const match = DIGEST.exec(digest);
  if (!match) fail(`"${digest}" is not a valid digest (algorithm:hex)`);
  const [, algorithm = '', hex = ''] = match!;
  const length = DIGEST_HEX_LENGTH[algorithm];
  if (length === undefined) fail(`unsupported digest algorithm "${algorithm}" (sha256, sha384 or sha512)`);
  if (hex.length !== length || hex !== hex.toLowerCase()) fail(`a ${algorithm} digest needs ${length} lowercase hex characters`);
}
