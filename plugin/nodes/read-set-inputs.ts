import path from 'node:path';
import { isUnder, type ReadPath } from '../config/read-set';
import { dockerignoreGlobs, matcher } from './dockerignore-inputs';

/** The ignore file a context gets: `<Dockerfile>.dockerignore`, else `<context>/.dockerignore` (workspace-relative path). */
export type IgnoreFileReader = (context: string, dockerfile: string) => { path: string; text: string } | undefined;

/**
 * Nx file-set inputs for everything a build reads, whatever directory it is
 * in: one `…/**\/*` per directory read (context, `local:` and `oci-layout://`
 * named contexts), less what that context's ignore file keeps out, and the
 * Dockerfile with its possible ignore files. `variants` holds the read set of
 * every way the target can run (its options, and those of each
 * configuration): the inputs cover all of them, since Nx has one list of
 * inputs per target whatever configuration runs.
 *
 * Paths inside the project root are written `{projectRoot}/…`, others
 * `{workspaceRoot}/…`: the usual project (its own root as context) keeps the
 * cheap project file set; a context elsewhere is hashed where it is.
 *
 * Nothing here may leave out a file the build can read (a stale image is
 * replayed), while hashing a file it cannot read only costs a rebuild. So an
 * ignore file's negations are used only where they are unambiguous: not for a
 * directory read under two different ignore files, not for one that lies
 * inside another read directory, not where they would reach into a nested
 * read directory or hide a Dockerfile or ignore file, and not for named
 * contexts (whether a frontend applies a named context's own `.dockerignore`
 * differs between BuildKit versions).
 *
 * `otherFiles` (workspace-relative) are read by the executor outside the
 * build, e.g. the project files labels come from: hashed like the
 * Dockerfile, and never hidden by a negation.
 */
export function readSetInputs(
  variants: readonly (readonly ReadPath[])[],
  projectRoot: string,
  readIgnoreFile: IgnoreFileReader,
  otherFiles: readonly string[] = [],
): string[] {
  const dirs = new Map<string, { named: boolean; ignores: Set<string> }>();
  // Files read whatever an ignore file says: the Dockerfiles, the ignore files, and `otherFiles`.
  const files = new Set<string>(otherFiles);
  const dockerfiles = new Set<string>();
  for (const reads of variants) {
    const context = reads.find((r) => r.field === 'context')!.path;
    const dockerfile = reads.find((r) => r.field === 'dockerfile')!.path;
    dockerfiles.add(dockerfile);
    files.add(dockerfile).add(`${dockerfile}.dockerignore`).add(path.posix.join(context, '.dockerignore'));
    for (const r of reads) {
      if (r.kind !== 'dir') continue;
      const entry = dirs.get(r.path) ?? { named: false, ignores: new Set<string>() };
      if (r.named) entry.named = true;
      else entry.ignores.add(readIgnoreFile(r.path, dockerfile)?.text ?? '');
      dirs.set(r.path, entry);
    }
  }
  const anchor = (p: string, rest?: string) => {
    if (isUnder(projectRoot, p)) {
      const rel = projectRoot === '.' ? p : path.posix.relative(projectRoot, p);
      return `{projectRoot}/${[rel === '' || rel === '.' ? '' : rel, rest ?? ''].filter(Boolean).join('/')}`;
    }
    return `{workspaceRoot}/${[p === '.' ? '' : p, rest ?? ''].filter(Boolean).join('/')}`;
  };
  const inputs: string[] = [];
  const negations: string[] = [];
  const allDirs = [...dirs.keys()].sort();
  for (const dir of allDirs) {
    const { named, ignores } = dirs.get(dir)!;
    inputs.push(anchor(dir, '**/*'));
    const text = ignores.size === 1 ? [...ignores][0]! : '';
    const insideAnother = allDirs.some((other) => other !== dir && isUnder(other, dir));
    if (named || text === '' || insideAnother) continue;
    const rel = (p: string) => (dir === '.' ? p : path.posix.relative(dir, p));
    const keep = [...files].filter((f) => isUnder(dir, f)).map(rel);
    const nested = allDirs.filter((other) => other !== dir && isUnder(dir, other)).map(rel);
    for (const glob of dockerignoreGlobs(text, keep)) {
      const m = matcher(glob);
      if (nested.some((n) => m.match(n) || m.match(n, true) || m.match(`${n}/x`))) continue;
      negations.push(`!${anchor(dir, glob)}`);
    }
  }
  // The Dockerfile is named even inside its context (the frontend reads it whatever the ignore file says);
  // ignore files only where no read directory covers them.
  for (const f of [...files].sort()) {
    if (dockerfiles.has(f) || !allDirs.some((d) => isUnder(d, f))) inputs.push(anchor(f));
  }
  return [...new Set([...inputs, ...negations])];
}
