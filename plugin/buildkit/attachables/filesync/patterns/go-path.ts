/**
 * Go's slash-path helpers (`path.Clean`, `Join`, `Dir`, `Base`,
 * `strings.TrimSpace`) with Go's exact results. Node's `path.posix` differs
 * in edge cases that change which patterns match: `normalize('')` is `.` but
 * keeps trailing slashes, `join` keeps a leading `./`, and JS `trim()` strips
 * U+FEFF but not U+0085, the reverse of Go.
 */

/** Go `path.Clean`: shortest equivalent path; `..` never climbs above a leading `/`; `""` → `.`. */
export function goClean(p: string): string {
  if (p === '') return '.';
  const rooted = p.startsWith('/');
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
      else if (!rooted) out.push('..');
      continue;
    }
    out.push(part);
  }
  const joined = out.join('/');
  if (rooted) return `/${joined}`;
  return joined === '' ? '.' : joined;
}

/** Go `path.Join`: non-empty elements joined with `/`, then cleaned; all empty → `""`. */
export function goJoin(...elems: string[]): string {
  const parts = elems.filter((e) => e !== '');
  return parts.length === 0 ? '' : goClean(parts.join('/'));
}

/** Go `path.Dir`: all but the last element, cleaned (`a` → `.`, `/a` → `/`). */
export function goDir(p: string): string {
  return goClean(p.slice(0, p.lastIndexOf('/') + 1));
}

/** Go `path.Base`: the last element (`""` → `.`, `/` → `/`), trailing slashes ignored. */
export function goBase(p: string): string {
  if (p === '') return '.';
  const trimmed = p.replace(/\/+$/, '');
  if (trimmed === '') return '/';
  return trimmed.slice(trimmed.lastIndexOf('/') + 1);
}

// unicode.IsSpace: the Latin-1 spaces plus the White_Space property above Latin-1.
const goSpace = new Set([
  0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x20, 0x85, 0xa0, 0x1680,
  0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006, 0x2007, 0x2008, 0x2009, 0x200a,
  0x2028, 0x2029, 0x202f, 0x205f, 0x3000,
]);

/** Go `strings.TrimSpace`: strips leading and trailing `unicode.IsSpace` characters. */
export function goTrimSpace(s: string): string {
  let start = 0;
  let end = s.length;
  // None of Go's space characters is outside the BMP, so code units suffice.
  while (start < end && goSpace.has(s.charCodeAt(start))) start++;
  while (end > start && goSpace.has(s.charCodeAt(end - 1))) end--;
  return s.slice(start, end);
}
