import { BadPatternError } from './glob-match';
import { compileGoRegexp } from './go-regexp';

/** How a pattern is tested, as moby/patternmatcher decides from its syntax. */
export type PatternKind = 'exact' | 'prefix' | 'suffix' | 'regexp';

// Regexp metacharacters patternmatcher quotes. It means to quote `.+()|{}$`,
// but its bitmap drops every byte >= 64, so `|`, `{` and `}` reach the Go
// regexp raw (`a|b*` is an alternation, `x{2}` a repeat); kept for exactness.
const quoted = new Set(['.', '+', '(', ')', '$']);

/**
 * One cleaned pattern of a {@link PatternMatcher} (moby/patternmatcher
 * `Pattern`). Plain patterns compare as strings; `dir/**` is a prefix test
 * and a leading `**` a suffix test (with their quirks: `**file` also matches
 * `myfile`); everything else becomes a Go regexp, compiled on first use. A
 * regexp Go cannot compile (`[z-a]`) is not an error until a path is tested
 * against it, as upstream.
 */
export class Pattern {
  /** True for `!` exceptions. */
  readonly exclusion: boolean;
  /** The pattern after cleaning, without its `!`. */
  readonly text: string;
  private compiled: { kind: PatternKind; regexp?: RegExp } | 'broken' | undefined;

  constructor(text: string, exclusion: boolean) {
    this.text = text;
    this.exclusion = exclusion;
  }

  /** How this pattern is tested (compiling it if needed). */
  get kind(): PatternKind {
    return this.compile().kind;
  }

  /** Whether `path` (slash-separated, relative) matches; throws {@link BadPatternError} for a pattern Go cannot compile. */
  matches(path: string): boolean {
    const { kind, regexp } = this.compile();
    switch (kind) {
      case 'exact':
        return path === this.text;
      case 'prefix':
        return path.startsWith(this.text.slice(0, -2));
      case 'suffix': {
        const suffix = this.text.slice(2);
        return path.endsWith(suffix) || (suffix.startsWith('/') && path === suffix.slice(1));
      }
      case 'regexp':
        return regexp!.test(path);
    }
  }

  /** The pattern text with a trailing `/**` or `/*` removed (fsutil's `patternWithoutTrailingGlob`). */
  withoutTrailingGlob(): string {
    let t = this.text;
    if (t.endsWith('/**')) t = t.slice(0, -3);
    if (t.endsWith('/*')) t = t.slice(0, -2);
    return t;
  }

  toString(): string {
    return this.exclusion ? `!${this.text}` : this.text;
  }

  private compile(): { kind: PatternKind; regexp?: RegExp } {
    if (this.compiled === 'broken') throw new BadPatternError();
    if (this.compiled) return this.compiled;
    const { kind, source } = translate(this.text);
    if (kind !== 'regexp') return (this.compiled = { kind });
    try {
      return (this.compiled = { kind, regexp: compileGoRegexp(source) });
    } catch {
      this.compiled = 'broken';
      throw new BadPatternError();
    }
  }
}

/** The kind of a pattern and, for regexps, the Go regexp source patternmatcher builds from it. */
export function translate(text: string): { kind: PatternKind; source: string } {
  const cs = Array.from(text);
  let source = '^';
  let kind: PatternKind = 'exact';
  for (let i = 0, first = true; i < cs.length; first = false) {
    const c = cs[i++]!;
    if (c === '*') {
      if (cs[i] === '*') {
        i++;
        // `**/` is the same as `**`.
        if (cs[i] === '/') i++;
        if (i >= cs.length) {
          // A trailing `**` accepts everything below, as in .gitignore.
          if (kind === 'exact') kind = 'prefix';
          else {
            source += '.*';
            kind = 'regexp';
          }
        } else {
          // Any number of leading directories, including none.
          source += '(.*/)?';
          kind = 'regexp';
        }
        if (first) kind = 'suffix';
      } else {
        source += '[^/]*';
        kind = 'regexp';
      }
    } else if (c === '?') {
      source += '[^/]';
      kind = 'regexp';
    } else if (quoted.has(c)) {
      source += `\\${c}`;
    } else if (c === '\\') {
      if (i < cs.length) {
        source += `\\${cs[i++]}`;
        kind = 'regexp';
      } else {
        source += '\\';
      }
    } else if (c === '[' || c === ']') {
      source += c;
      kind = 'regexp';
    } else {
      source += c;
    }
  }
  return { kind, source: `${source}$` };
}
