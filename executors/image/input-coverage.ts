import { Minimatch } from 'minimatch';
import { readSetOf } from '../../plugin/config/read-set';

/** An Nx input as target configurations and `namedInputs` write it (only the forms that name files matter here). */
export type NxInput = string | { fileset?: string; input?: string; projects?: unknown; dependencies?: boolean; [key: string]: unknown };

/** What the guard needs to know about one task. */
export interface CoverageQuery {
  project: string;
  target: string;
  projectRoot: string;
  /** The options the task runs with (command-line overrides and configuration included). */
  options: Readonly<Record<string, unknown>>;
  /** The target's `inputs` as Nx hashes them; undefined means Nx's default (`default`, `^default`). */
  inputs: readonly NxInput[] | undefined;
  /** nx.json `namedInputs` under the project's own. */
  namedInputs: Readonly<Record<string, readonly NxInput[]>>;
}

/**
 * The directories and files the task's build reads that its Nx inputs do not
 * cover, one message each, naming project, target, option and path. A read
 * directory is covered when a file-set input (after `{projectRoot}`,
 * `{workspaceRoot}` and named inputs are expanded) matches any file in it and
 * no negation does; the Dockerfile when one matches the file itself.
 *
 * Nx would replay such a task's image from its cache after a change there:
 * the caller must keep the result out of the cache (see runImageTasks).
 */
export function uncoveredReads(q: CoverageQuery): string[] {
  const globs = fileSets(q.inputs ?? ['default', '^default'], q.namedInputs, new Set()).map((g) => resolveTokens(g, q.projectRoot));
  const positive = globs.filter((g) => !g.startsWith('!')).map(compile);
  const negative = globs.filter((g) => g.startsWith('!')).map((g) => compile(g.slice(1)));
  const covered = (p: string) => positive.some((m) => m.match(p)) && !negative.some((m) => m.match(p));
  const problems: string[] = [];
  for (const read of readSetOf(q.options, q.projectRoot)) {
    // Probe names for "some file below": covered when any of them is (an ignore negation may hide one name, not all three).
    const below = (name: string) => (read.path === '.' ? name : `${read.path}/${name}`);
    const probes = read.kind === 'file' ? [read.path] : [below('nx-buildkit-probe'), below('.nx-buildkit-probe/probe'), below('probe.nx-buildkit')];
    if (probes.some(covered)) continue;
    const what = read.kind === 'dir' ? `directory ${read.path}/` : `file ${read.path}`;
    const input = read.kind === 'dir' ? `{workspaceRoot}/${read.path === '.' ? '' : `${read.path}/`}**/*` : `{workspaceRoot}/${read.path}`;
    problems.push(`${q.project}:${q.target}: option "${read.field}" reads ${what}, which the target's Nx inputs do not cover: a change there would replay a stale image from the cache. Add "${input}" to the target's inputs (or leave "inputs" to the nx-buildkit plugin).`);
  }
  return problems;
}

function fileSets(inputs: readonly NxInput[], named: Readonly<Record<string, readonly NxInput[]>>, seen: Set<string>): string[] {
  const out: string[] = [];
  const expandNamed = (name: string) => {
    if (seen.has(name)) return;
    const inner = named[name] ?? (name === 'default' ? ['{projectRoot}/**/*'] : undefined);
    if (!inner) return;
    out.push(...fileSets(inner, named, new Set([...seen, name])));
  };
  for (const input of inputs) {
    if (typeof input === 'string') {
      if (input.startsWith('^')) continue; // the dependencies' files, not this project's reads
      if (input.includes('{projectRoot}') || input.includes('{workspaceRoot}')) out.push(input);
      else expandNamed(input);
    } else if (input && typeof input === 'object') {
      if (typeof input.fileset === 'string') out.push(input.fileset);
      else if (typeof input.input === 'string' && !input.dependencies && input.projects === undefined) expandNamed(input.input);
    }
  }
  return out;
}

/** `{projectRoot}` and `{workspaceRoot}` replaced: a workspace-relative glob (a leading `!` kept). */
function resolveTokens(glob: string, projectRoot: string): string {
  const neg = glob.startsWith('!');
  let g = neg ? glob.slice(1) : glob;
  g = g.replace(/\{projectRoot\}/g, projectRoot === '.' ? '' : projectRoot).replace(/\{workspaceRoot\}/g, '');
  g = g.replace(/^\/+/, '').replace(/\/{2,}/g, '/');
  return (neg ? '!' : '') + g;
}

function compile(glob: string): Minimatch {
  return new Minimatch(glob, { dot: true });
}
