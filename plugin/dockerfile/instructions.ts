/**
 * A small reader of the Dockerfile grammar, shared by the readers of what a
 * Dockerfile uses (images, context paths), rather than the full parser: it
 * honours the `escape` parser directive, line continuations, comments and
 * here-documents (so a line inside a heredoc is not an instruction), which
 * is all that decides where instructions start.
 */

/** One instruction after line continuations are joined. */
export interface Instruction {
  keyword: string;
  args: string;
  line: number;
}

/** The instructions of a Dockerfile, keyword upper-cased, in order. */
export function* readInstructions(text: string): Generator<Instruction> {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const escape = readEscapeDirective(lines);
  let i = 0;
  while (i < lines.length) {
    const start = i;
    const first = lines[i++]!;
    if (isBlankOrComment(first)) continue;
    let joined = first;
    while (endsWithEscape(joined, escape) && i < lines.length) {
      joined = joined.trimEnd().slice(0, -1);
      // Comments and blank lines inside a continued instruction are dropped, as BuildKit does.
      while (i < lines.length && isBlankOrComment(lines[i]!)) i++;
      if (i < lines.length) joined += lines[i++]!;
    }
    const m = /^\s*(\S+)\s*([\s\S]*)$/.exec(joined);
    if (!m) continue;
    const keyword = m[1]!.toUpperCase();
    const args = m[2]!.trim();
    yield { keyword, args, line: start + 1 };
    if (keyword === 'RUN' || keyword === 'COPY' || keyword === 'ADD') i = skipHeredocs(lines, i, args);
  }
}

/** The escape character from a leading `# escape=` parser directive (default `\`). */
function readEscapeDirective(lines: string[]): string {
  const value = readDirective(lines, 'escape');
  return value === '`' || value === '\\' ? value : '\\';
}

/** The value of a parser directive (`# name=value` before anything else in the file). */
export function readDirective(lines: string[], name: string): string | undefined {
  for (const line of lines) {
    const m = /^\s*#\s*([A-Za-z]+)\s*=\s*(\S*)\s*$/.exec(line);
    if (!m) break;
    if (m[1]!.toLowerCase() === name) return m[2];
  }
  return undefined;
}

function isBlankOrComment(line: string): boolean {
  const t = line.trimStart();
  return t === '' || t.startsWith('#');
}

function endsWithEscape(line: string, escape: string): boolean {
  return line.trimEnd().endsWith(escape);
}

/**
 * Skip the bodies of the here-documents an instruction opens (`<<EOF`,
 * `<<-EOF`, `<<"EOF"`), in order; returns the index of the line after the last
 * terminator.
 */
function skipHeredocs(lines: string[], i: number, args: string): number {
  const words = [...args.matchAll(/<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g)].map((m) => ({ strip: m[1] === '-', word: m[3]! }));
  for (const { strip, word } of words) {
    while (i < lines.length) {
      const line = lines[i++]!;
      if ((strip ? line.replace(/^\t+/, '') : line) === word) break;
    }
  }
  return i;
}

export interface Flag {
  name: string;
  value: string;
}

/** Split leading `--name=value` flags from the rest of the arguments. */
export function splitFlags(args: string): { flags: Flag[]; words: string[] } {
  const tokens = args.split(/\s+/).filter(Boolean);
  const flags: Flag[] = [];
  let n = 0;
  for (; n < tokens.length && tokens[n]!.startsWith('--'); n++) {
    const token = tokens[n]!.slice(2);
    const eq = token.indexOf('=');
    flags.push(eq < 0 ? { name: token.toLowerCase(), value: '' } : { name: token.slice(0, eq).toLowerCase(), value: token.slice(eq + 1) });
  }
  return { flags, words: tokens.slice(n) };
}

export function flagValue(flags: Flag[], name: string): string | undefined {
  return flags.find((f) => f.name === name)?.value;
}

/** The `key=value` fields of a `--mount=` value (a CSV), keys lower-cased, quotes around values removed. */
export function mountFields(value: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const field of value.split(',')) {
    const [key, ...rest] = field.split('=');
    if (key?.trim()) fields.set(key.trim().toLowerCase(), rest.join('=').trim().replace(/^["']|["']$/g, ''));
  }
  return fields;
}
