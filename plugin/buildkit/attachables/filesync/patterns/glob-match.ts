/**
 * Go's `path/filepath.Match` (Unix flavour), byte for byte: fsutil expands
 * wildcards in `followpaths` with it, and moby/patternmatcher uses it to
 * reject malformed patterns. It works on UTF-8 bytes, not JS code units: `*`
 * skips bytes, `?` and `[…]` take one rune, and `\` escapes the next byte.
 */

/** Thrown for a malformed pattern; the message is Go's `filepath.ErrBadPattern` text. */
export class BadPatternError extends Error {
  override readonly name = 'BadPatternError';
  constructor() {
    super('syntax error in pattern');
  }
}

type Bytes = Buffer<ArrayBufferLike>;

const enum Ch {
  Star = 0x2a,
  Question = 0x3f,
  Open = 0x5b,
  Close = 0x5d,
  Caret = 0x5e,
  Dash = 0x2d,
  Backslash = 0x5c,
  Slash = 0x2f,
}

/** True when `name` matches the shell `pattern`; throws {@link BadPatternError} when the pattern is malformed. */
export function globMatch(pattern: string, name: string): boolean {
  let pat: Bytes = Buffer.from(pattern, 'utf8');
  let str: Bytes = Buffer.from(name, 'utf8');
  outer: while (pat.length > 0) {
    const { star, chunk, rest } = scanChunk(pat);
    pat = rest;
    if (star && chunk.length === 0) {
      // A trailing * matches the rest of the name unless it has a /.
      return !str.includes(Ch.Slash);
    }
    const here = matchChunk(chunk, str);
    // The last chunk must use up the whole name, or the star may still help.
    if (here !== undefined && (here.length === 0 || pat.length > 0)) {
      str = here;
      continue;
    }
    if (star) {
      for (let i = 0; i < str.length && str[i] !== Ch.Slash; i++) {
        const t = matchChunk(chunk, str.subarray(i + 1));
        if (t !== undefined) {
          if (pat.length === 0 && t.length > 0) continue;
          str = t;
          continue outer;
        }
      }
    }
    // No match: still report a malformed remainder, as Go does.
    while (pat.length > 0) {
      const next = scanChunk(pat);
      pat = next.rest;
      matchChunk(next.chunk, Buffer.alloc(0));
    }
    return false;
  }
  return str.length === 0;
}

/** Throws {@link BadPatternError} unless Go's `filepath.Match` accepts `pattern`. */
export function checkGlobSyntax(pattern: string): void {
  globMatch(pattern, '.');
}

/** Split off leading stars and the literal/class chunk up to the next unbracketed star. */
function scanChunk(pat: Bytes): { star: boolean; chunk: Bytes; rest: Bytes } {
  let star = false;
  while (pat.length > 0 && pat[0] === Ch.Star) {
    pat = pat.subarray(1);
    star = true;
  }
  let inRange = false;
  let i = 0;
  scan: for (; i < pat.length; i++) {
    switch (pat[i]) {
      case Ch.Backslash:
        if (i + 1 < pat.length) i++;
        break;
      case Ch.Open:
        inRange = true;
        break;
      case Ch.Close:
        inRange = false;
        break;
      case Ch.Star:
        if (!inRange) break scan;
        break;
    }
  }
  return { star, chunk: pat.subarray(0, i), rest: pat.subarray(i) };
}

/**
 * Match `chunk` (no stars) at the start of `s`: the rest of `s`, or undefined.
 * The whole chunk is always parsed, so syntax errors surface even after a mismatch.
 */
function matchChunk(chunk: Bytes, s: Bytes): Bytes | undefined {
  let failed = false;
  while (chunk.length > 0) {
    if (!failed && s.length === 0) failed = true;
    switch (chunk[0]) {
      case Ch.Open: {
        let r = 0;
        if (!failed) {
          const [rune, n] = decodeRune(s);
          r = rune;
          s = s.subarray(n);
        }
        chunk = chunk.subarray(1);
        let negated = false;
        if (chunk.length > 0 && chunk[0] === Ch.Caret) {
          negated = true;
          chunk = chunk.subarray(1);
        }
        let matched = false;
        let ranges = 0;
        for (;;) {
          if (chunk.length > 0 && chunk[0] === Ch.Close && ranges > 0) {
            chunk = chunk.subarray(1);
            break;
          }
          const lo = classChar(chunk);
          chunk = lo.rest;
          let hi = lo.rune;
          if (chunk[0] === Ch.Dash) {
            const h = classChar(chunk.subarray(1));
            chunk = h.rest;
            hi = h.rune;
          }
          if (lo.rune <= r && r <= hi) matched = true;
          ranges++;
        }
        if (matched === negated) failed = true;
        break;
      }
      case Ch.Question:
        if (!failed) {
          if (s[0] === Ch.Slash) failed = true;
          s = s.subarray(decodeRune(s)[1]);
        }
        chunk = chunk.subarray(1);
        break;
      case Ch.Backslash:
        chunk = chunk.subarray(1);
        if (chunk.length === 0) throw new BadPatternError();
      // falls through: the escaped byte is a literal
      default:
        if (!failed) {
          if (chunk[0] !== s[0]) failed = true;
          s = s.subarray(1);
        }
        chunk = chunk.subarray(1);
    }
  }
  return failed ? undefined : s;
}

/** One possibly escaped character of a class; a class that ends early is malformed. */
function classChar(chunk: Bytes): { rune: number; rest: Bytes } {
  if (chunk.length === 0 || chunk[0] === Ch.Dash || chunk[0] === Ch.Close) throw new BadPatternError();
  if (chunk[0] === Ch.Backslash) {
    chunk = chunk.subarray(1);
    if (chunk.length === 0) throw new BadPatternError();
  }
  const [rune, n] = decodeRune(chunk);
  if (rune === 0xfffd && n === 1) throw new BadPatternError();
  const rest = chunk.subarray(n);
  if (rest.length === 0) throw new BadPatternError();
  return { rune, rest };
}

/** Go `utf8.DecodeRune`: the rune at the start and its byte length; invalid bytes are U+FFFD of length 1, empty input length 0. */
export function decodeRune(b: Uint8Array): [number, number] {
  if (b.length === 0) return [0xfffd, 0];
  const b0 = b[0]!;
  if (b0 < 0x80) return [b0, 1];
  const need = b0 >= 0xf0 && b0 <= 0xf4 ? 4 : b0 >= 0xe0 ? 3 : b0 >= 0xc2 && b0 < 0xe0 ? 2 : 0;
  if (need === 0 || b.length < need) return [0xfffd, 1];
  let rune = b0 & (need === 2 ? 0x1f : need === 3 ? 0x0f : 0x07);
  for (let i = 1; i < need; i++) {
    const c = b[i]!;
    if ((c & 0xc0) !== 0x80) return [0xfffd, 1];
    rune = (rune << 6) | (c & 0x3f);
  }
  const min = need === 2 ? 0x80 : need === 3 ? 0x800 : 0x10000;
  if (rune < min || rune > 0x10ffff || (rune >= 0xd800 && rune <= 0xdfff)) return [0xfffd, 1];
  return [rune, need];
}
