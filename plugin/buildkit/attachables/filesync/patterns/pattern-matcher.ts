import { checkGlobSyntax } from './glob-match';
import { goClean, goDir, goTrimSpace } from './go-path';
import { Pattern } from './pattern';

/**
 * Per-pattern results for a directory, handed to its entries
 * ({@link PatternMatcher.matchesUsingParentResults}); `undefined` means "no
 * information" and makes the matcher test every ancestor itself.
 */
export type MatchInfo = readonly boolean[] | undefined;

/**
 * An ordered list of `.dockerignore`-style patterns with moby/patternmatcher
 * semantics, the matcher fsutil's walker uses for include and exclude
 * patterns.
 *
 * Why not `@balena/dockerignore` (1.0.2): it ports Docker 19.03's matcher,
 * which predates patternmatcher, and has neither include semantics nor the
 * parent-results API the walker needs. On patternmatcher's own test table
 * it differs: `a(b)c/def`, `dist/proxy.py-2.4.0rc3.dev36+g08acad9-…whl` and
 * `**\/dir2/*` vs `dir/dir2/file/` fail to match, `a.|)$(}+{bc` throws
 * (unquoted regexp characters), `**file` misses `myfile`, and it is
 * case-insensitive by default (`abc` matches `ABC`). pattern-matcher.test.ts
 * holds that table.
 */
export class PatternMatcher {
  /** The patterns, cleaned, in order; blank ones dropped. */
  readonly patterns: readonly Pattern[];
  /** True when some pattern is a `!` exception. */
  readonly hasExclusions: boolean;

  /**
   * Each pattern is trimmed, dropped if blank, cleaned like a path
   * (`filepath.Clean`), and a leading `!` marks an exception. Throws
   * {@link BadPatternError} when Go's `filepath.Match` would reject one, or an
   * Error for a lone `!`.
   */
  constructor(patterns: readonly string[]) {
    const out: Pattern[] = [];
    for (const raw of patterns) {
      let p = goTrimSpace(raw);
      if (p === '') continue;
      p = goClean(p);
      let exclusion = false;
      if (p.startsWith('!')) {
        if (p.length === 1) throw new Error('illegal exclusion pattern: "!"');
        exclusion = true;
        p = p.slice(1);
      }
      checkGlobSyntax(p);
      out.push(new Pattern(p, exclusion));
    }
    this.patterns = out;
    this.hasExclusions = out.some((p) => p.exclusion);
  }

  /** Whether `file` itself matches (no parent matching); the last matching pattern decides. */
  matchesExact(file: string): boolean {
    let matched = false;
    for (const pattern of this.patterns) {
      // An inclusion can't change a match, an exception can't change a non-match.
      if (pattern.exclusion !== matched) continue;
      if (pattern.matches(file)) matched = !pattern.exclusion;
    }
    return matched;
  }

  /** Whether `file` or one of its parent directories matches; the last matching pattern decides. */
  matchesOrParentMatches(file: string): boolean {
    let matched = false;
    const parents = parentChain(file);
    for (const pattern of this.patterns) {
      if (pattern.exclusion !== matched) continue;
      let match = pattern.matches(file);
      for (let i = 0; !match && i < parents.length; i++) match = pattern.matches(parents[i]!);
      if (match) matched = !pattern.exclusion;
    }
    return matched;
  }

  /**
   * Like {@link matchesOrParentMatches}, but a walker passes the info returned
   * for the parent directory instead of having every ancestor re-tested: a
   * pattern that matched the parent counts as matching `file`. Returns the
   * result and the info to hand to `file`'s own entries.
   */
  matchesUsingParentResults(file: string, parent: MatchInfo): { matched: boolean; info: boolean[] } {
    if (parent !== undefined && parent.length !== 0 && parent.length !== this.patterns.length) {
      throw new Error('wrong number of values in parentMatched');
    }
    const noContext = parent === undefined || parent.length === 0;
    const info = new Array<boolean>(this.patterns.length).fill(false);
    let matched = false;
    this.patterns.forEach((pattern, i) => {
      let match = noContext ? false : parent[i]!;
      if (!match) {
        if (pattern.exclusion !== matched) return;
        match = pattern.matches(file);
        if (!match && noContext) {
          for (const dir of parentChain(file)) {
            if ((match = pattern.matches(dir))) break;
          }
        }
      }
      info[i] = match;
      if (match) matched = !pattern.exclusion;
    });
    return { matched, info };
  }
}

/** The ancestors of `file`, outermost first (`a/b/c` → `a`, `a/b`); none for top-level names. */
function parentChain(file: string): string[] {
  const dir = goDir(file);
  if (dir === '.') return [];
  const parts = dir.split('/');
  return parts.map((_, i) => parts.slice(0, i + 1).join('/'));
}
