import fs from 'node:fs';
import path from 'node:path';

/** The checker as built by scripts/build-dist.ts, relative to the package root. */
const checkerInPackage = 'dist/check-image.cjs';
const packageName = 'nx-buildkit';

/**
 * The command of an image target's runtime input: `<bun|node> <checker>
 * <metadata file>`, which prints `ok` unless the image the metadata file names was
 * pushed and its registry no longer serves the digest, or was loaded and its
 * engine no longer holds it (plugin/cache/). Nx
 * runs it from the workspace root with `sh -c` (`cmd /C` on Windows) and
 * hashes what it prints, so the command holds only workspace-relative paths:
 * the same on every machine, and so the same hash for a remote cache.
 *
 * Nx runs it for every image task of every run, cache hits included, and a
 * Node process costs 50–100 ms to start: for 100 cached images that was most
 * of the run (bench/nx-planning). So under `sh` a `grep` answers first for
 * metadata of an image neither pushed nor loaded, the usual case, which has nothing to ask a
 * registry: it prints the checker's own `ok` for it. The checker still runs when the
 * file says `"pushed": true` or `"loaded": true`, and when grep cannot read it (missing: the
 * checker says `ok`; unreadable: the checker says so, and the target runs).
 * The executor writes the file with `JSON.stringify`, so `"pushed": true`
 * has the one form the pattern matches; a match elsewhere in the file only
 * costs the Node check.
 *
 * The checker is found as `node_modules/nx-buildkit/…` when the workspace
 * installs the package there (the usual case), else by this package's own
 * location.
 */
export function checkImageCommand(workspaceRoot: string, metadataFile: string, dockerConfig?: string, platform: NodeJS.Platform = process.platform): string {
  return checkImageCommands(workspaceRoot, platform)(metadataFile, dockerConfig);
}

/** {@link checkImageCommand} for one workspace, its checker found once. */
export type CheckImageCommand = (metadataFile: string, dockerConfig?: string) => string;

/**
 * {@link checkImageCommand} for many projects of one workspace: the checker's
 * path is looked up once, not once per project (inference of thousands of
 * projects otherwise spends its time in `stat`).
 */
export function checkImageCommands(workspaceRoot: string, platform: NodeJS.Platform = process.platform): CheckImageCommand {
  const checker = checkerPath(workspaceRoot);
  return (metadataFile, dockerConfig) => {
    const args = [checker, ...(dockerConfig ? ['--docker-config', dockerConfig] : []), metadataFile].map(shellWord).join(' ');
    // cmd /C has no grep: Windows always asks Node.
    if (platform === 'win32') return `node ${args}`;
    // grep exits 0 on a match, 1 on none, 2 when it cannot read the file. The
    // checker prints the same under either runtime; Bun starts it in a third
    // of Node's time (about 25 ms against 75), which is most of a cached
    // pushed image's cost, so Bun runs it where it is installed.
    const checkerRun = `if command -v bun >/dev/null 2>&1; then bun ${args}; else node ${args}; fi`;
    return `grep -Eqs ${pushedPattern} ${shellWord(metadataFile)}; case $? in 1) echo ok;; *) ${checkerRun};; esac`;
  };
}

/** `"pushed": true` or `"loaded": true` as the executor writes them (any spacing), as a single-quoted extended regular expression. */
const pushedPattern = `'"(pushed|loaded)"[[:space:]]*:[[:space:]]*true'`;

function checkerPath(workspaceRoot: string): string {
  const installed = path.join(workspaceRoot, 'node_modules', packageName, checkerInPackage);
  if (fs.existsSync(installed)) return toPosix(path.relative(workspaceRoot, installed));
  return toPosix(path.relative(workspaceRoot, path.join(ownPackageRoot(), checkerInPackage)));
}

/**
 * This package's root, found at run time through the package's reference to
 * itself (its `exports` name `./package.json`): never `__dirname`, which the
 * bundler would freeze as the build machine's path.
 */
function ownPackageRoot(): string {
  return path.dirname(require.resolve(`${packageName}/package.json`));
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** A path as one word for both `sh -c` and `cmd /C`: bare when plain, else double-quoted (paths hold no `"`). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\$`])/g, '\\$1')}"`;
}
