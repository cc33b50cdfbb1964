import fs from 'node:fs';
import path from 'node:path';

/** The checker as built by scripts/build-dist.ts, relative to the package root. */
const checkerInPackage = 'dist/check-image.cjs';
const packageName = 'nx-buildkit';

/**
 * The command of an image target's runtime input: `node <checker> <metadata
 * file>`, which prints `ok` unless the image the metadata file names was
 * pushed and its registry no longer serves the digest (plugin/cache/). Nx
 * runs it from the workspace root with `sh -c` (`cmd /C` on Windows) and
 * hashes what it prints, so the command holds only workspace-relative paths:
 * the same on every machine, and so the same hash for a remote cache.
 *
 * The checker is found as `node_modules/nx-buildkit/…` when the workspace
 * installs the package there (the usual case), else by this package's own
 * location.
 */
export function checkImageCommand(workspaceRoot: string, metadataFile: string, dockerConfig?: string): string {
  const args = [checkerPath(workspaceRoot), ...(dockerConfig ? ['--docker-config', dockerConfig] : []), metadataFile];
  return ['node', ...args.map(shellWord)].join(' ');
}

function checkerPath(workspaceRoot: string): string {
  const installed = path.join(workspaceRoot, 'node_modules', packageName, checkerInPackage);
  if (fs.existsSync(installed)) return toPosix(path.relative(workspaceRoot, installed));
  return toPosix(path.relative(workspaceRoot, path.join(ownPackageRoot(), checkerInPackage)));
}

/** This package's root: the nearest directory up from this module with nx-buildkit's package.json (source or dist/). */
function ownPackageRoot(): string {
  for (let dir = __dirname; ; dir = path.dirname(dir)) {
    try {
      if ((JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as { name?: string }).name === packageName) return dir;
    } catch {
      // No (readable) package.json here: keep going up.
    }
    if (path.dirname(dir) === dir) throw new Error(`nx-buildkit: cannot find its own package.json above ${__dirname}`);
  }
}

function toPosix(p: string): string {
  return p.split(path.sep).join('/');
}

/** A path as one word for both `sh -c` and `cmd /C`: bare when plain, else double-quoted (paths hold no `"`). */
function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `"${word.replace(/(["\\$`])/g, '\\$1')}"`;
}
