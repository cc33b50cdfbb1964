import path from 'node:path';
import { parseNamedContextValue } from './named-context-value';

/** One local path a build reads, by the option that names it. */
export interface ReadPath {
  /** The option, as messages name it: `context`, `dockerfile`, `namedContexts.<name>`. */
  field: string;
  /** `dir`: every file below it is sent; `file`: this one file (the Dockerfile). */
  kind: 'dir' | 'file';
  /** Workspace-relative POSIX path (`.` for the workspace root). */
  path: string;
  /** A named context: no ignore file of its own is trusted to keep files out (frontends differ). */
  named?: boolean;
}

/**
 * What a build with these (raw, unvalidated) options reads from the
 * workspace: the context directory, the Dockerfile, and every `local:` or
 * `oci-layout://` named context. The same reading the executor builds from
 * (context defaults to the project root, the Dockerfile to
 * `<context>/Dockerfile`), so that the plugin's inputs and the executor's
 * guard agree on it. Values that are not strings are left out: the executor
 * rejects them before anything is built.
 */
export function readSetOf(options: Readonly<Record<string, unknown>>, projectRoot: string): ReadPath[] {
  const context = workspacePath(typeof options['context'] === 'string' ? options['context'] : projectRoot);
  const dockerfile = typeof options['dockerfile'] === 'string' ? workspacePath(options['dockerfile']) : workspacePath(path.posix.join(context, 'Dockerfile'));
  const reads: ReadPath[] = [
    { field: 'context', kind: 'dir', path: context },
    { field: 'dockerfile', kind: 'file', path: dockerfile },
  ];
  const named = options['namedContexts'];
  if (named && typeof named === 'object' && !Array.isArray(named)) {
    for (const [name, value] of Object.entries(named as Record<string, unknown>)) {
      const parsed = typeof value === 'string' ? parseNamedContextValue(value) : undefined;
      if (parsed?.kind === 'local' || parsed?.kind === 'oci-layout') reads.push({ field: `namedContexts.${name}`, kind: 'dir', path: workspacePath(parsed.path), named: true });
    }
  }
  return reads;
}

/** A path as written in options (relative to the workspace root), normalized to POSIX form; `.` for the root. */
export function workspacePath(p: string): string {
  const normalized = path.posix.normalize(p.split(path.sep).join('/')).replace(/\/+$/, '');
  return normalized === '' || normalized === './' ? '.' : normalized.replace(/^\.\//, '');
}

/** Whether workspace-relative `p` is `dir` or below it. */
export function isUnder(dir: string, p: string): boolean {
  return dir === '.' ? !p.startsWith('../') && p !== '..' && !path.posix.isAbsolute(p) : p === dir || p.startsWith(`${dir}/`);
}
