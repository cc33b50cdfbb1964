import fs from 'node:fs/promises';
import { readDockerignore } from '../attachables/filesync/patterns/ignore-file';
import { BuildkitError } from '../errors';

const refusal = /header key "(exclude-patterns|include-patterns|followpaths)" contains value with non-printable ASCII characters/;
const nonAscii = /[^\x20-\x7e]/;

/**
 * BuildKit before 0.12 passes the context's filters (`.dockerignore` lines
 * as `exclude-patterns`, the paths `COPY`/`ADD` read as `followpaths` and
 * `include-patterns`) to the client as raw gRPC header values, and newer
 * gRPC libraries in such daemons refuse non-ASCII ones: the build ends with
 * a bare `Internal` error. Builds keep such filters away from these daemons
 * where that leaves the result the same (non-ascii-filters.ts); this names
 * the file and the patterns when one still got through.
 */
export async function explainNonAsciiFilter(error: BuildkitError, sources: { contextDir: string; dockerfile: string }): Promise<BuildkitError> {
  const match = refusal.exec(error.message);
  if (!match) return error;
  const header = match[1]!;
  let where: string;
  if (header === 'exclude-patterns') {
    const ignore = await readDockerignore(sources.contextDir, { dockerfile: sources.dockerfile }).catch(() => ({ patterns: [] as string[], file: undefined }));
    where = `${ignore.file ?? '.dockerignore'}: ${quoted(ignore.patterns.filter((p) => nonAscii.test(p)))}`;
  } else {
    const text = await fs.readFile(sources.dockerfile, 'utf8').catch(() => '');
    where = `${sources.dockerfile}: COPY/ADD sources ${quoted(copySources(text).filter((p) => nonAscii.test(p)))}`;
  }
  return new BuildkitError(
    'invalid-argument',
    `this builder (BuildKit before 0.12) cannot pass context filter patterns with non-ASCII characters to the client (it said: ${match[0]}): ` +
      `${where}; rename those paths or patterns to ASCII, or use BuildKit 0.12 or later`,
    { cause: error, grpcCode: error.grpcCode },
  );
}

function quoted(patterns: readonly string[]): string {
  return patterns.length ? patterns.map((p) => `"${p}"`).join(', ') : '(none found)';
}

/** The source paths of a Dockerfile's COPY and ADD instructions (JSON or shell form; flags and the destination left out). */
function copySources(text: string): string[] {
  const sources: string[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:COPY|ADD)\s+(.*)$/i.exec(line);
    if (!m) continue;
    const rest = m[1]!.replace(/^(?:--\S+\s+)*/, '');
    let words: string[];
    try {
      words = rest.startsWith('[') ? (JSON.parse(rest) as string[]) : rest.split(/\s+/).filter(Boolean);
    } catch {
      words = rest.split(/\s+/).filter(Boolean);
    }
    sources.push(...words.slice(0, -1));
  }
  return sources;
}
