/** Docker's limit on a tag's length. */
export const MAX_TAG_LENGTH = 128;

/**
 * Turn free text (a branch like `feature/Login_Page`, a git tag like
 * `app/v1.2.3`) into something valid as a Docker tag: lowercase, every run
 * of characters outside `[a-z0-9._-]` (including `/`) becomes one `-`,
 * leading `.` and `-` are removed (a tag must start with a word character),
 * and the result is cut to 128 characters. Returns `''` when nothing is left;
 * callers drop such tags rather than invent one.
 */
export function sanitizeTag(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, MAX_TAG_LENGTH);
}
