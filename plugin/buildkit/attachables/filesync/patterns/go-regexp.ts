/**
 * Compiles a Go (RE2, `regexp.Compile` flags) regular expression into an
 * equivalent JS `RegExp`. moby/patternmatcher turns every wildcard pattern
 * into a Go regexp, copying the pattern's `[`, `]`, `^` and `\x` escapes into
 * it verbatim, so `\d`, `[[:alpha:]]`, `\Q…` or a `[` that swallows a
 * generated `[^/]` all carry Go's meaning. Translating the Go syntax (rather
 * than reinterpreting the pattern) keeps those cases identical; anything Go
 * rejects is rejected here.
 */

/** A Go regexp that Go's parser would reject. */
export class GoRegexpSyntaxError extends Error {
  override readonly name = 'GoRegexpSyntaxError';
}

type Range = [number, number];
/** A class item: code point ranges, or a JS Unicode property escape (`\p{…}`) that has no range form here. */
type ClassItem = Range | string;

const maxRune = 0x10ffff;
const ranges = (...pairs: Array<[string, string]>): Range[] => pairs.map(([a, b]) => [a.codePointAt(0)!, b.codePointAt(0)!]);

// Go regexp/syntax perl_groups.go and POSIX groups (ASCII only, as in Go).
const perlClasses: Record<string, Range[]> = {
  d: ranges(['0', '9']),
  s: ranges(['\t', '\n'], ['\f', '\r'], [' ', ' ']),
  w: ranges(['0', '9'], ['A', 'Z'], ['_', '_'], ['a', 'z']),
};
const posixClasses: Record<string, Range[]> = {
  alnum: ranges(['0', '9'], ['A', 'Z'], ['a', 'z']),
  alpha: ranges(['A', 'Z'], ['a', 'z']),
  ascii: [[0, 0x7f]],
  blank: ranges(['\t', '\t'], [' ', ' ']),
  cntrl: [[0, 0x1f], [0x7f, 0x7f]],
  digit: ranges(['0', '9']),
  graph: ranges(['!', '~']),
  lower: ranges(['a', 'z']),
  print: ranges([' ', '~']),
  punct: ranges(['!', '/'], [':', '@'], ['[', '`'], ['{', '~']),
  space: ranges(['\t', '\r'], [' ', ' ']),
  upper: ranges(['A', 'Z']),
  word: ranges(['0', '9'], ['A', 'Z'], ['_', '_'], ['a', 'z']),
  xdigit: ranges(['0', '9'], ['A', 'F'], ['a', 'f']),
};
const generalCategories = new Set([
  'C', 'Cc', 'Cf', 'Co', 'Cs', 'L', 'Ll', 'Lm', 'Lo', 'Lt', 'Lu', 'M', 'Mc', 'Me', 'Mn', 'N', 'Nd', 'Nl', 'No',
  'P', 'Pc', 'Pd', 'Pe', 'Pf', 'Pi', 'Po', 'Ps', 'S', 'Sc', 'Sk', 'Sm', 'So', 'Z', 'Zl', 'Zp', 'Zs',
]);

const hex = (cp: number) => `\\u{${cp.toString(16)}}`;
const isOctal = (c: string | undefined) => c !== undefined && c >= '0' && c <= '7';
const hexValue = (c: string | undefined) => (c !== undefined && /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1);
const isAlnum = (c: string) => /^[0-9A-Za-z]$/.test(c);

/** Translate and compile; throws {@link GoRegexpSyntaxError} where Go's `regexp.Compile` fails. */
export function compileGoRegexp(source: string): RegExp {
  const js = new Translator(Array.from(source)).translate();
  try {
    return new RegExp(js, 'u');
  } catch (err) {
    throw new GoRegexpSyntaxError(`cannot compile ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

class Translator {
  private i = 0;
  constructor(private readonly cs: string[]) {}

  translate(): string {
    let out = '';
    let depth = 0;
    // What the last emitted item can take: a repetition needs an operand, and two in a row are an error.
    let last: 'none' | 'atom' | 'repeat' = 'none';
    const fail = (what: string): never => {
      throw new GoRegexpSyntaxError(`${what} in ${JSON.stringify(this.cs.join(''))}`);
    };
    const repeat = (op: string): string => {
      if (last === 'none') fail('missing argument to repetition operator');
      if (last === 'repeat') fail('invalid nested repetition operator');
      last = 'repeat';
      // A following ? makes it non-greedy: no difference for a yes/no match, but valid.
      if (this.cs[this.i] !== '?') return op;
      this.i++;
      return `${op}?`;
    };
    while (this.i < this.cs.length) {
      const c = this.cs[this.i++]!;
      switch (c) {
        case '(':
          if (this.cs[this.i] === '?') fail('unsupported group syntax');
          out += '(';
          depth++;
          last = 'none';
          break;
        case ')':
          if (depth === 0) fail('unexpected )');
          out += ')';
          depth--;
          last = 'atom';
          break;
        case '|':
          out += '|';
          last = 'none';
          break;
        case '*':
        case '+':
        case '?':
          out += repeat(c);
          break;
        case '{': {
          // A valid `{n}`, `{n,}` or `{n,m}` is a repeat; any other `{` is a literal.
          const count = this.repeatCount();
          if (count === undefined) {
            out += hex(0x7b);
            last = 'atom';
          } else {
            out += repeat(count);
          }
          break;
        }
        case '.':
          // Go's . excludes only \n; JS's also excludes \r, U+2028 and U+2029.
          out += '[^\\n]';
          last = 'atom';
          break;
        case '^':
          out += '(?:^)';
          last = 'atom';
          break;
        case '$':
          out += '(?:$)';
          last = 'atom';
          break;
        case '[':
          out += this.classBody();
          last = 'atom';
          break;
        case '\\': {
          this.i--; // back on the backslash: escape() and classEscape() start there
          const next = this.cs[this.i + 1];
          if (next === 'Q') {
            // \Q…\E: everything up to \E (or the end) is literal, each character its own atom.
            this.i += 2;
            while (this.i < this.cs.length && !(this.cs[this.i] === '\\' && this.cs[this.i + 1] === 'E')) {
              out += hex(this.cs[this.i++]!.codePointAt(0)!);
              last = 'atom';
            }
            if (this.i < this.cs.length) this.i += 2;
            break;
          }
          const assertion = next === undefined ? undefined : { A: '(?:^)', z: '(?:$)', b: '(?:\\b)', B: '(?:\\B)' }[next];
          if (assertion) {
            this.i += 2;
            out += assertion;
            last = 'atom';
            break;
          }
          if (next === 'C') fail('invalid escape sequence \\C');
          const cls = this.classEscape();
          out += cls !== undefined ? renderClass(cls, false) : hex(this.escape());
          last = 'atom';
          break;
        }
        default:
          out += hex(c.codePointAt(0)!);
          last = 'atom';
      }
    }
    if (depth > 0) fail('missing closing )');
    return out;
  }

  /** After `{`: a repeat count as JS syntax (cursor moved past it), or undefined when Go reads the `{` as a literal. */
  private repeatCount(): string | undefined {
    const m = /^(0|[1-9][0-9]*)(?:(,)(0|[1-9][0-9]*)?)?\}/.exec(this.cs.slice(this.i).join(""));
    // Go also reads digits with a leading zero as "not a repeat".
    if (!m) return undefined;
    this.i += m[0].length;
    const min = m[1]!.length > 9 ? Infinity : Number(m[1]);
    const max = m[2] === undefined ? min : m[3] === undefined ? -1 : m[3].length > 9 ? Infinity : Number(m[3]);
    if (min > 1000 || max > 1000 || (max >= 0 && min > max)) throw new GoRegexpSyntaxError('invalid repeat count');
    return `{${min}${m[2] === undefined ? '' : `,${max < 0 ? '' : max}`}}`;
  }

  /** After `[`: the class up to its `]`, rendered for JS. */
  private classBody(): string {
    const items: ClassItem[] = [];
    let negated = false;
    if (this.cs[this.i] === '^') {
      negated = true;
      this.i++;
    }
    let first = true;
    for (;;) {
      const c = this.cs[this.i];
      if (c === undefined) throw new GoRegexpSyntaxError('missing closing ]');
      if (c === ']' && !first) {
        this.i++;
        break;
      }
      first = false;
      if (c === '[' && this.cs[this.i + 1] === ':') {
        const named = this.namedClass();
        if (named) {
          items.push(...named);
          continue;
        }
      }
      if (c === '\\') {
        const cls = this.classEscape();
        if (cls !== undefined) {
          items.push(...cls);
          continue;
        }
      }
      const lo = this.classChar();
      let hi = lo;
      if (this.cs[this.i] === '-' && this.cs[this.i + 1] !== undefined && this.cs[this.i + 1] !== ']') {
        this.i++;
        hi = this.classChar();
        if (hi < lo) throw new GoRegexpSyntaxError('invalid character class range');
      }
      items.push([lo, hi]);
    }
    return renderClass(items, negated);
  }

  /** `[:name:]` or `[:^name:]` at the cursor; undefined when it is not one (then `[` is a literal). */
  private namedClass(): ClassItem[] | undefined {
    const rest = this.cs.slice(this.i + 2).join('');
    const end = rest.indexOf(':]');
    if (end < 0) return undefined;
    let name = rest.slice(0, end);
    const negated = name.startsWith('^');
    if (negated) name = name.slice(1);
    const cls = Object.hasOwn(posixClasses, name) ? posixClasses[name]! : undefined;
    if (!cls) throw new GoRegexpSyntaxError(`invalid character class range [:${rest.slice(0, end)}:]`);
    this.i += 2 + Array.from(rest.slice(0, end)).length + 2;
    return negated ? complement(cls) : cls;
  }

  /** `\d`-style or `\p`-style class at the cursor (which is on the backslash), or undefined. */
  private classEscape(): ClassItem[] | undefined {
    const at = this.i + 1;
    const c = this.cs[at];
    if (c === undefined) return undefined;
    const lower = c.toLowerCase();
    if ((lower === 'd' || lower === 's' || lower === 'w') && /[dswDSW]/.test(c)) {
      this.i = at + 1;
      const cls = perlClasses[lower]!;
      return c === lower ? cls : complement(cls);
    }
    if (c !== 'p' && c !== 'P') return undefined;
    let negated = c === 'P';
    let name: string;
    let next = at + 1;
    const open = this.cs[next];
    if (open === undefined) throw new GoRegexpSyntaxError('invalid character class range \\p');
    if (open === '{') {
      const close = this.cs.indexOf('}', next);
      if (close < 0) throw new GoRegexpSyntaxError('invalid character class range');
      name = this.cs.slice(next + 1, close).join('');
      next = close + 1;
    } else {
      name = open;
      next++;
    }
    if (name.startsWith('^')) {
      negated = !negated;
      name = name.slice(1);
    }
    this.i = next;
    if (name === 'Any') return negated ? [] : [[0, maxRune]];
    const prop = generalCategories.has(name) ? name : `Script=${name}`;
    try {
      new RegExp(`\\p{${prop}}`, 'u');
    } catch {
      throw new GoRegexpSyntaxError(`invalid character class range \\p{${name}}`);
    }
    return [`\\${negated ? 'P' : 'p'}{${prop}}`];
  }

  /** One class member character (maybe escaped) as a code point. */
  private classChar(): number {
    const c = this.cs[this.i];
    if (c === undefined) throw new GoRegexpSyntaxError('missing closing ]');
    if (c === '\\') return this.escape();
    this.i++;
    return c.codePointAt(0)!;
  }

  /** A single-character escape at the cursor (on the backslash), as Go's parseEscape reads it. */
  private escape(): number {
    this.i++; // the backslash
    const c = this.cs[this.i++];
    const invalid = () => new GoRegexpSyntaxError('invalid escape sequence');
    if (c === undefined) throw new GoRegexpSyntaxError('trailing backslash at end of expression');
    if (c.codePointAt(0)! < 0x80 && !isAlnum(c)) return c.codePointAt(0)!;
    if (c >= '1' && c <= '7' && !isOctal(this.cs[this.i])) throw invalid(); // a backreference: not supported by Go
    if (c >= '0' && c <= '7') {
      let r = c.charCodeAt(0) - 0x30;
      for (let k = 1; k < 3 && isOctal(this.cs[this.i]); k++) r = r * 8 + this.cs[this.i++]!.charCodeAt(0) - 0x30;
      return r;
    }
    if (c === 'x') {
      if (this.cs[this.i] === '{') {
        this.i++;
        let r = 0;
        let digits = 0;
        for (;;) {
          const d = this.cs[this.i++];
          if (d === undefined) throw invalid();
          if (d === '}') break;
          const v = hexValue(d);
          if (v < 0) throw invalid();
          r = r * 16 + v;
          if (r > maxRune) throw invalid();
          digits++;
        }
        if (digits === 0) throw invalid();
        return r;
      }
      const x = hexValue(this.cs[this.i++]);
      const y = hexValue(this.cs[this.i++]);
      if (x < 0 || y < 0) throw invalid();
      return x * 16 + y;
    }
    const simple: Record<string, number> = { a: 7, f: 12, n: 10, r: 13, t: 9, v: 11 };
    if (Object.hasOwn(simple, c)) return simple[c]!;
    throw invalid();
  }
}

/** The code points not in `cls`. */
function complement(cls: Range[]): Range[] {
  const sorted = [...cls].sort((a, b) => a[0] - b[0]);
  const out: Range[] = [];
  let next = 0;
  for (const [lo, hi] of sorted) {
    if (lo > next) out.push([next, lo - 1]);
    next = Math.max(next, hi + 1);
  }
  if (next <= maxRune) out.push([next, maxRune]);
  return out;
}

function renderClass(items: ClassItem[], negated: boolean): string {
  const body = items.map((it) => (typeof it === 'string' ? it : it[0] === it[1] ? hex(it[0]) : `${hex(it[0])}-${hex(it[1])}`)).join('');
  return `[${negated ? '^' : ''}${body}]`;
}
