import fs from 'node:fs';
import path from 'node:path';
import type { NormalizedImageTask } from './normalize-image-task';

/** One local path a build reads, and the option it came from. */
interface ReadPath {
  /** The option, as problems name it: `context`, `dockerfile`, `namedContexts.<name>`. */
  field: string;
  /** Absolute path (before symlinks are resolved). */
  path: string;
}

/**
 * Refuse builds that would read local files outside the workspace root
 * unless the task allows the directory explicitly (`allowOutsideWorkspace`,
 * buildx's `--allow fs.read=<dir>`): the build context, the Dockerfile and
 * every `local:` or `oci-layout://` named context. Paths are compared after
 * resolving symlinks, so a symlinked directory pointing out of the workspace
 * counts as outside, and `..` cannot climb out. Returns one problem per
 * offending field, naming project, target and field; empty when all is well.
 *
 * This runs before anything starts. The FileSync provider serves only the
 * directories it was given and sends symlinks inside them as links, so the
 * directories checked here are all a run can ever expose.
 */
export function checkContextPaths(task: NormalizedImageTask, where: { project: string; target: string; workspaceRoot: string }): string[] {
  const spec = task.target.spec;
  const reads: ReadPath[] = [
    { field: 'context', path: spec.contextDir },
    // The directory that will serve the Dockerfile, and the file itself (a symlinked Dockerfile counts where it points).
    { field: 'dockerfile', path: path.dirname(spec.dockerfile) },
    { field: 'dockerfile', path: spec.dockerfile },
  ];
  for (const [name, ctx] of Object.entries(spec.namedContexts ?? {})) {
    if (ctx.kind === 'local' || ctx.kind === 'oci-layout') reads.push({ field: `namedContexts.${name}`, path: ctx.dir });
  }
  const allowed = task.options.allowOutsideWorkspace;
  if (allowed.includes('*')) return [];
  const roots = [where.workspaceRoot, ...allowed.map((a) => path.resolve(where.workspaceRoot, a))].map(resolveLinks);
  const problems: string[] = [];
  const reported = new Set<string>();
  for (const read of reads) {
    if (reported.has(read.field)) continue;
    // The default Dockerfile lives in the context: one problem says it all.
    if (read.field === 'dockerfile' && task.options.dockerfile === undefined && reported.has('context')) continue;
    const real = resolveLinks(read.path);
    if (roots.some((root) => isWithin(root, real))) continue;
    reported.add(read.field);
    const shown = real === path.resolve(read.path) ? real : `${path.resolve(read.path)} (resolves to ${real})`;
    problems.push(
      `${where.project}:${where.target}: option "${read.field}": ${shown} is outside the workspace root ${roots[0]}; ` +
        `list the directory in "allowOutsideWorkspace" to let the build read it`,
    );
  }
  return problems;
}

/** Whether `p` is `root` or below it (both absolute, symlinks resolved). */
export function isWithin(root: string, p: string): boolean {
  const rel = path.relative(root, p);
  return rel === '' || (!path.isAbsolute(rel) && rel !== '..' && !rel.startsWith(`..${path.sep}`));
}

/**
 * `realpath` of a path that may not exist yet: its longest existing prefix
 * resolved, the rest appended. A missing context fails later with its own
 * error; here it must still count as inside or outside correctly.
 */
export function resolveLinks(p: string): string {
  const abs = path.resolve(p);
  const rest: string[] = [];
  let head = abs;
  for (;;) {
    try {
      return path.join(fs.realpathSync.native(head), ...rest);
    } catch {
      const parent = path.dirname(head);
      if (parent === head) return abs;
      rest.unshift(path.basename(head));
      head = parent;
    }
  }
}
