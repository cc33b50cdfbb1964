import path from 'node:path';
import { BuildkitError } from '../errors';

const printable = /^[\x20-\x7e]*$/;

/** Whether every value can travel raw as a gRPC header value (printable ASCII), as daemons before BuildKit 0.12 send filters. */
export function headerSafe(values: readonly string[]): boolean {
  return values.every((v) => printable.test(v));
}

/** The filters of one build that the Dockerfile frontend would turn into FileSync headers. */
export interface FrontendFilters {
  /** The build's own session serves context and Dockerfile, so the frontend makes their local sources (and their filters). */
  ownContext: boolean;
  /** The context's ignore file and its patterns (`exclude-patterns`). */
  ignore: { file?: string; patterns: readonly string[] };
  /** Path and text of the Dockerfile: its name (`followpaths`/`include-patterns` of the Dockerfile's local) and its COPY/ADD sources (`followpaths` of the context). */
  dockerfile: { path: string; text: string };
  /** Local named contexts: the frontend applies each one's own `.dockerignore` as `exclude-patterns`. */
  named: ReadonlyArray<{ name: string; ignoreFile?: string; patterns: readonly string[] }>;
}

/** How a build keeps non-ASCII filters away from a daemon that cannot pass them. */
export interface FilterHeaderPlan {
  /**
   * Give the frontend the context and Dockerfile as LLB inputs served by the
   * build's own session, with no filters in them: the ignore rules are
   * applied on this side (the session sends exactly the files they admit)
   * and the whole context is sent, from which COPY picks its paths, so the
   * result is the same without any header.
   */
  contextAsInputs: boolean;
}

/** Whether any filter of the build has characters outside printable ASCII (only then does the daemon's generation matter). */
export function hasNonAsciiFilters(filters: FrontendFilters): boolean {
  if (filters.named.some((n) => !headerSafe(n.patterns))) return true;
  return filters.ownContext && frontendMakesNonAscii(filters);
}

/**
 * Decide, for a daemon that does (`escapes`) or does not pass non-ASCII
 * filter headers, how the build avoids sending one. Pure. What cannot be
 * kept exact without the header (a local named context's own
 * `.dockerignore`, which only the frontend applies) fails here, before any
 * solve, naming the file and the patterns.
 */
export function planFilterHeaders(filters: FrontendFilters, escapes: boolean): FilterHeaderPlan {
  if (escapes) return { contextAsInputs: false };
  for (const n of filters.named) {
    const bad = n.patterns.filter((p) => !printable.test(p));
    if (!bad.length) continue;
    throw new BuildkitError(
      'invalid-argument',
      `named context "${n.name}": ${n.ignoreFile ?? '.dockerignore'} has patterns with non-ASCII characters (${bad.map((p) => `"${p}"`).join(', ')}), ` +
        'which this builder (BuildKit before 0.12) cannot pass to the client; rename those paths or patterns to ASCII, or use BuildKit 0.12 or later',
    );
  }
  return { contextAsInputs: filters.ownContext && frontendMakesNonAscii(filters) };
}

function frontendMakesNonAscii(filters: FrontendFilters): boolean {
  return !headerSafe(filters.ignore.patterns) || !headerSafe([path.basename(filters.dockerfile.path)]) || copySourceLines(filters.dockerfile.text).some((l) => !printable.test(l));
}

/**
 * The instruction lines (continuations joined) from which the frontend takes
 * context paths: COPY and ADD sources, and RUN bind mounts. Over-matching
 * only costs the partial transfer; the result stays the same.
 */
function copySourceLines(text: string): string[] {
  const lines: string[] = [];
  let current = '';
  for (const raw of text.split(/\r?\n/)) {
    current += raw;
    if (/\\\s*$/.test(raw)) {
      current = current.replace(/\\\s*$/, ' ');
      continue;
    }
    if (/^\s*(COPY|ADD)\s/i.test(current) || (/^\s*RUN\s/i.test(current) && current.includes('--mount'))) lines.push(current);
    current = '';
  }
  return lines;
}
