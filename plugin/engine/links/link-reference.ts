import { randomBytes } from 'node:crypto';

/**
 * Repository under which a run keeps its image links in the Docker engine's
 * image store. No user image lives there, so a link never overwrites a tag
 * somebody relies on, and leftovers of a crashed run are easy to find
 * (`docker image ls 'nx-buildkit-link/*'`).
 */
export const linkRepository = 'nx-buildkit-link';

/** A fresh run identifier for link tags: 64 random bits, so concurrent runs on one engine never share a link. */
export function newLinkRunId(): string {
  return randomBytes(8).toString('hex');
}

/**
 * The engine-internal name of a target's result in one run:
 * `nx-buildkit-link/<target id made a valid path component>:<run id>`.
 * Valid as a Docker reference for any target id (lowercase, `[a-z0-9]`
 * runs joined by single `-`), so the moby exporter and the frontend both
 * accept it.
 */
export function linkReference(targetId: string, runId: string): string {
  if (!/^[\w][\w.-]{0,127}$/.test(runId)) throw new Error(`invalid link run id "${runId}"`);
  const component = targetId.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 100) || 'target';
  return `${linkRepository}/${component}:${runId}`;
}

/** Whether an image name is one of our links (any run). */
export function isLinkReference(name: string): boolean {
  return name.startsWith(`${linkRepository}/`) || name.startsWith(`docker.io/${linkRepository}/`);
}
