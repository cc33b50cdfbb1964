import { BuildkitError } from '../../../errors';
import type { FilterDecision, TreeFilter } from '../walk-tree';
import { dedupePaths, followLinks, type VisibleFn } from './follow-links';
import { BadPatternError } from './glob-match';
import { PatternMatcher, type MatchInfo } from './pattern-matcher';

/** The three filtering inputs of a FileSync transfer (the daemon's DiffCopy headers, or a client's own rules). */
export interface PathFilterOptions {
  /** A path is sent only if it (or a parent directory) matches; its parent directories are sent with it. */
  includePatterns?: readonly string[];
  /** A path that (or whose parent directory) matches is not sent, unless a later `!` pattern re-includes it. */
  excludePatterns?: readonly string[];
  /** Paths whose symlinks are resolved inside the root; the paths and link targets become extra include patterns. */
  followPaths?: readonly string[];
}

// Characters that make a pattern more than a literal path (fsutil's list for Unix).
const patternChars = /[*[\]?^\\]/;

interface DirState {
  include?: MatchInfo;
  exclude?: MatchInfo;
}

/**
 * A {@link TreeFilter} with tonistiigi/fsutil's `NewFilterFS` semantics:
 * `followPaths` resolved into include patterns first; a path is sent when it
 * matches the include patterns (if any) and not the exclude patterns, both
 * with parent-directory matching; a directory that fails is skipped whole
 * unless a pattern or `!` exception could still match inside it, in which
 * case it is walked and sent only if something inside it is.
 * `undefined` when nothing filters. `visible` hides entries from the
 * symlink resolution (client-side excludes).
 */
export async function createPathFilter(
  root: string,
  options: PathFilterOptions,
  context: { visible?: VisibleFn; signal?: AbortSignal } = {},
): Promise<TreeFilter | undefined> {
  let includes: readonly string[] | undefined = options.includePatterns ?? [];
  if (options.followPaths && options.followPaths.length > 0) {
    const targets = await followLinks(root, options.followPaths, context);
    // A follow path that is the root itself leaves the include patterns as they were.
    if (targets !== undefined) includes = dedupePaths([...includes, ...targets]);
  }
  const include = includes && includes.length > 0 ? matcher(includes, 'includepatterns') : undefined;
  const exclude = options.excludePatterns && options.excludePatterns.length > 0 ? matcher(options.excludePatterns, 'excludepatterns') : undefined;
  if (!include && !exclude) return undefined;

  // When every relevant pattern is a literal path, a directory no pattern
  // leads into can be skipped whole; otherwise it must be walked.
  const literal = (m: PatternMatcher, exclusions: boolean) => m.patterns.every((p) => p.exclusion !== exclusions || !patternChars.test(p.withoutTrailingGlob()));
  const leadsInto = (m: PatternMatcher, exclusions: boolean, dir: string) =>
    m.patterns.some((p) => p.exclusion === exclusions && `${p.withoutTrailingGlob()}/`.startsWith(`${dir}/`));
  const onlyLiteralIncludes = include ? literal(include, false) : true;
  const onlyLiteralExceptions = exclude ? literal(exclude, true) : true;

  return {
    match(relPath: string, isDir: boolean, parentState: unknown): FilterDecision {
      const parent = parentState as DirState | undefined;
      const state: DirState = {};
      let skip = false;
      if (include) {
        const { matched, info } = test(include, relPath, parent?.include, 'includepatterns');
        state.include = info;
        if (!matched) {
          if (isDir && onlyLiteralIncludes && !leadsInto(include, false, relPath)) return { verdict: 'exclude' };
          skip = true;
        }
      }
      if (exclude) {
        const { matched, info } = test(exclude, relPath, parent?.exclude, 'excludepatterns');
        state.exclude = info;
        if (matched) {
          if (isDir && onlyLiteralExceptions && (!exclude.hasExclusions || !leadsInto(exclude, true, relPath))) return { verdict: 'exclude' };
          skip = true;
        }
      }
      return { verdict: skip ? 'descend-only' : 'include', state: isDir ? state : undefined };
    },
  };
}

/** Throws an `invalid-argument` BuildkitError naming `owner` when include or exclude patterns are malformed. */
export function checkPatterns(options: PathFilterOptions, owner: string): void {
  try {
    if (options.includePatterns?.length) matcher(options.includePatterns, 'includepatterns');
    if (options.excludePatterns?.length) matcher(options.excludePatterns, 'excludepatterns');
  } catch (err) {
    throw BuildkitError.from(err, owner);
  }
}

function matcher(patterns: readonly string[], what: string): PatternMatcher {
  try {
    return new PatternMatcher(patterns);
  } catch (err) {
    throw new BuildkitError('invalid-argument', `invalid ${what}: ${JSON.stringify(patterns)}: ${(err as Error).message}`, { cause: err });
  }
}

function test(m: PatternMatcher, relPath: string, parent: MatchInfo, what: string): { matched: boolean; info: boolean[] } {
  try {
    return m.matchesUsingParentResults(relPath, parent);
  } catch (err) {
    if (err instanceof BadPatternError) throw new BuildkitError('invalid-argument', `failed to match ${what}: ${err.message}`, { cause: err });
    throw err;
  }
}
