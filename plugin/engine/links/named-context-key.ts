import { parseImageReference } from '../../config/image-reference';

/**
 * The `context:<key>` attribute under which the Dockerfile frontend looks
 * for a named context replacing image `ref`. The frontend normalizes the
 * name it reads in `FROM` / `--from` first (Docker's familiar form, without
 * `:latest`), so `FROM base`, `FROM base:latest` and
 * `FROM docker.io/library/base` all look up `context:base`; the key must be
 * written in that same form or it is never found. `undefined` for
 * references that cannot be parsed or are pinned by digest.
 */
export function namedContextKey(ref: string): string | undefined {
  const parsed = parseImageReference(ref);
  if (!parsed || parsed.digest || !parsed.tag) return undefined;
  let repository = parsed.repository;
  if (repository.startsWith('docker.io/library/')) repository = repository.slice('docker.io/library/'.length);
  else if (repository.startsWith('docker.io/')) repository = repository.slice('docker.io/'.length);
  return parsed.tag === 'latest' ? repository : `${repository}:${parsed.tag}`;
}
