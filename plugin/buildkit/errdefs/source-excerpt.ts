import type { SourceLocation } from './error-details';

const rule = '-'.repeat(20);

/**
 * The lines of a source file a failure points at, framed as buildx frames
 * them so users recognize it:
 *
 * ```
 * Dockerfile:3
 * --------------------
 *    2 |     COPY a /a
 *    3 | >>> FORM nothing
 *    4 |     COPY b /b
 * --------------------
 * ```
 *
 * A few lines around the failing ones give context (more around a single
 * line). Empty when the location has no usable range.
 */
export function sourceExcerpt(source: SourceLocation): string {
  // A final newline ends the last line; it does not start another.
  const lines = source.text.replace(/\n$/, '').split('\n');
  const failing = source.ranges.filter((r) => r.start <= lines.length);
  if (failing.length === 0) return '';
  const first = Math.min(...failing.map((r) => r.start));
  const last = Math.min(lines.length, Math.max(...failing.map((r) => r.end)));
  const around = first === last ? 2 : 1;
  const from = Math.max(1, first - around);
  const to = Math.min(lines.length, last + around);
  const marked = (n: number) => failing.some((r) => n >= r.start && n <= r.end);
  const body: string[] = [];
  for (let n = from; n <= to; n++) body.push(` ${String(n).padStart(3)} | ${marked(n) ? '>>>' : '   '} ${lines[n - 1]}`.trimEnd());
  return [`${source.filename}:${first}`, rule, ...body, rule].join('\n');
}
