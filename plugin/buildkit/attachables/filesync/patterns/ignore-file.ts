import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildkitError } from '../../../errors';
import { goClean, goTrimSpace } from './go-path';

// bufio.Scanner's default limit; Docker fails on longer lines instead of splitting them.
const maxLineBytes = 64 * 1024;

/**
 * Parse `.dockerignore` text into patterns exactly as Docker does
 * (moby/patternmatcher `ignorefile.ReadAll`): a UTF-8 BOM is dropped, lines
 * starting with `#` (before trimming) are comments, blank lines are skipped,
 * each pattern is trimmed and cleaned, and a leading `/` is removed, also
 * after a `!`. A lone `!` stays, and the matcher rejects it.
 */
export function parseIgnoreFile(text: string): string[] {
  const out: string[] = [];
  const lines = text.replace(/^\uFEFF/, '').split('\n');
  // Like bufio.ScanLines: a final newline does not start another line.
  if (lines.at(-1) === '') lines.pop();
  for (const rawLine of lines) {
    if (Buffer.byteLength(rawLine) > maxLineBytes) throw new BuildkitError('invalid-argument', 'bufio.Scanner: token too long');
    const line = rawLine.endsWith('\r') ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith('#')) continue;
    let pattern = goTrimSpace(line);
    if (pattern === '') continue;
    const invert = pattern.startsWith('!');
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = goClean(pattern);
      if (pattern.length > 1 && pattern.startsWith('/')) pattern = pattern.slice(1);
    }
    out.push(invert ? `!${pattern}` : pattern);
  }
  return out;
}

/** Where {@link readDockerignore} looks. */
export interface DockerignoreOptions {
  /**
   * Path of the Dockerfile (relative paths are taken from the context
   * directory). When `<dockerfile>.dockerignore` exists it is used instead of
   * the context's `.dockerignore`, as BuildKit's Dockerfile frontend does.
   */
  dockerfile?: string;
  signal?: AbortSignal;
}

/**
 * The exclude patterns the Dockerfile frontend will apply to `contextDir`:
 * from `<dockerfile>.dockerignore` if it exists, else from
 * `<contextDir>/.dockerignore`, else none. Give them to a `SyncedDir.filter`
 * so ignored files never leave this machine, whatever the daemon asks.
 */
export async function readDockerignore(contextDir: string, options: DockerignoreOptions = {}): Promise<{ patterns: string[]; file?: string }> {
  const candidates = [
    ...(options.dockerfile ? [`${path.resolve(contextDir, options.dockerfile)}.dockerignore`] : []),
    path.join(contextDir, '.dockerignore'),
  ];
  for (const file of candidates) {
    let text: string;
    try {
      text = await fs.readFile(file, { encoding: 'utf8', signal: options.signal });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // BuildKit treats an unreadable candidate (missing, or a directory) as absent.
      if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') continue;
      throw BuildkitError.from(err, `cannot read ${file}`);
    }
    try {
      return { patterns: parseIgnoreFile(text), file };
    } catch (err) {
      throw BuildkitError.from(err, `failed parsing ${file}`);
    }
  }
  return { patterns: [] };
}
