import path from 'node:path';
import { Minimatch } from 'minimatch';

/**
 * Characters whose meaning differs between Docker's matcher (Go
 * `filepath.Match` plus `**`) and minimatch, which Nx uses for input globs:
 * character classes and escapes, braces (alternation in minimatch, literal in
 * Docker) and extglob parentheses.
 */
const untranslatable = /[[\]\\{}()]/;

/**
 * Nx input negations (`!{projectRoot}/…`) for the files a `.dockerignore`
 * keeps out of the build context, so that changing them does not invalidate
 * the image's cache.
 *
 * Only what can be expressed exactly, or more narrowly, is translated: leaving
 * a file out of the hash that BuildKit would send makes Nx replay a stale
 * image, while hashing a file BuildKit ignores only costs a rebuild. So:
 * - Nx ignores the order of its negations, but a `!` exception re-includes
 *   files: only the patterns after the last exception are final and used.
 * - Patterns with characters the two matchers read differently are skipped.
 * - A pattern that would hide a file in `keep` (the Dockerfile and the ignore
 *   file, which BuildKit reads whatever they say) is skipped.
 * Docker's patterns are anchored at the context root and also cover
 * everything below a matching directory, hence the second `/**` negation.
 */
export function dockerignoreInputs(text: string, keep: readonly string[]): string[] {
  return dockerignoreGlobs(text, keep).map((g) => `!{projectRoot}/${g}`);
}

/**
 * The globs of {@link dockerignoreInputs}, relative to the directory the
 * ignore file governs and without the `!` (callers anchor them where that
 * directory is: `{projectRoot}/…` or `{workspaceRoot}/<dir>/…`).
 */
export function dockerignoreGlobs(text: string, keep: readonly string[]): string[] {
  // Projects of one workspace often share an ignore file's text (and their Dockerfile's name): translate each once.
  const key = `${keep.join('\0')}\0\0${text}`;
  let globs = translated.get(key);
  if (!globs) {
    if (translated.size >= maxTranslated) translated.clear();
    globs = translate(text, keep);
    translated.set(key, globs);
  }
  return [...globs];
}

const translated = new Map<string, string[]>();
const maxTranslated = 1000;

function translate(text: string, keep: readonly string[]): string[] {
  const patterns = readPatterns(text);
  const lastException = patterns.findLastIndex((p) => p.startsWith('!'));
  const out: string[] = [];
  for (const pattern of patterns.slice(lastException + 1)) {
    if (pattern === '.' || pattern === '..' || pattern.startsWith('../') || untranslatable.test(pattern)) continue;
    const globs = pattern === '**' || pattern.endsWith('/**') ? [pattern] : [pattern, `${pattern}/**`];
    if (keep.some((file) => globs.some((g) => matcher(g).match(file)))) continue;
    out.push(...globs);
  }
  return [...new Set(out)];
}

/**
 * Compiled globs, shared by every project: a workspace's ignore files repeat
 * the same few patterns, and compiling one costs far more than matching it
 * (it was a third of inference for 2,000 projects, bench/nx-planning). Cleared
 * when it grows past a bound, so a long-lived Nx daemon does not keep every
 * pattern it ever saw.
 */
const matchers = new Map<string, Minimatch>();
const maxMatchers = 1000;

export function matcher(glob: string): Minimatch {
  let m = matchers.get(glob);
  if (!m) {
    if (matchers.size >= maxMatchers) matchers.clear();
    m = new Minimatch(glob, { dot: true });
    matchers.set(glob, m);
  }
  return m;
}

/**
 * The patterns of an ignore file as Docker reads them: BOM dropped, lines
 * starting with `#` are comments, patterns trimmed and cleaned like paths, a
 * leading `/` removed (also after `!`).
 */
function readPatterns(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    if (raw.startsWith('#')) continue;
    let pattern = raw.trim();
    const exception = pattern.startsWith('!');
    if (exception) pattern = pattern.slice(1).trim();
    if (pattern === '') {
      // A lone `!` makes Docker refuse the file; treat it as an exception so nothing before it is trusted.
      if (exception) out.push('!');
      continue;
    }
    pattern = path.posix.normalize(pattern).replace(/\/+$/, '');
    if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    if (pattern === '') pattern = '.';
    out.push(exception ? `!${pattern}` : pattern);
  }
  return out;
}
