import type { Dirent } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { globMatch } from './glob-match';
import { goBase, goClean, goDir, goJoin } from './go-path';

/** Whether an entry of the root may be seen at all (client-side filtering); paths are relative, slash-separated. */
export type VisibleFn = (relPath: string, isDir: boolean) => boolean;

/**
 * Resolve `followpaths` as fsutil's `FollowLinks` does, without ever reading
 * outside `root`: each path is walked component by component, and a
 * component that is a symlink is recorded and replaced by its target
 * (relative targets against the link's directory, absolute ones against
 * `root`; `..` stops at `root`); wildcards in a component are expanded
 * against the directory's entries, following matching symlinks. Returns the
 * recorded paths, sorted and with paths under another one dropped, or
 * `undefined` when one of them is the root itself (meaning: no filter).
 */
export async function followLinks(root: string, paths: readonly string[], options: { visible?: VisibleFn; signal?: AbortSignal } = {}): Promise<string[] | undefined> {
  const resolver = new SymlinkResolver(root, options.visible, options.signal);
  for (const p of paths) await resolver.append(p);
  // Go's sort.Strings orders by bytes.
  const sorted = [...resolver.resolved].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  return dedupePaths(sorted);
}

/**
 * Drop paths below an earlier kept one (`a`, `a/b` → `a`); `undefined` when
 * a path is `.` (everything is wanted). fsutil applies it to sorted lists and
 * also to include patterns followed by resolved paths, so it is exported.
 */
export function dedupePaths(paths: readonly string[]): string[] | undefined {
  const out: string[] = [];
  let last: string | undefined;
  for (const p of paths) {
    if (p === '.') return undefined;
    // Go starts with last = "", so at first anything under "/" is dropped.
    if (p.startsWith(`${last ?? ''}/`)) continue;
    out.push(p);
    last = p;
  }
  return out;
}

class SymlinkResolver {
  readonly resolved = new Set<string>();
  private readonly dirs = new Map<string, Dirent[]>();

  constructor(
    private readonly root: string,
    private readonly visible: VisibleFn | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async append(input: string): Promise<void> {
    let rest = goJoin('.', input);
    let current = '.';
    for (;;) {
      const slash = rest.indexOf('/');
      const head = slash < 0 ? rest : rest.slice(0, slash);
      current = goJoin(current, head);
      const targets = await this.readSymlink(current, true);
      rest = slash < 0 ? '' : rest.slice(slash + 1);
      // Each link is followed once: this is what ends symlink loops.
      if ((rest === '' || targets !== undefined) && this.resolved.has(current)) return;
      if (targets !== undefined) {
        this.resolved.add(current);
        for (const target of targets) await this.append(goJoin(target, rest));
        return;
      }
      if (rest === '') {
        this.resolved.add(current);
        return;
      }
    }
  }

  /** Targets (as root-absolute paths) of the symlink at `p`, or of the symlinks matching a wildcard base; undefined when there are none. */
  private async readSymlink(p: string, allowWildcard: boolean): Promise<string[] | undefined> {
    const base = goBase(p);
    if (allowWildcard && containsWildcards(base)) {
      let out: string[] | undefined;
      for (const entry of await this.readDir(goDir(p))) {
        let ok = false;
        try {
          ok = globMatch(base, entry.name);
        } catch {
          // fsutil ignores the error of a malformed wildcard: nothing matches.
        }
        if (!ok) continue;
        const res = await this.readSymlink(goJoin(goDir(p), entry.name), false);
        if (res) out = [...(out ?? []), ...res];
      }
      return out;
    }
    const entry = (await this.readDir(goDir(p))).find((e) => e.name === base);
    if (!entry?.isSymbolicLink()) return undefined;
    const link = goClean(await fs.readlink(path.join(this.root, p)));
    if (link.startsWith('/')) return [link];
    // Relative targets resolve against the link's directory; joining under "/" keeps `..` from leaving the root.
    return [goJoin('/', goJoin(goDir(p), link))];
  }

  /**
   * Entries of a directory of the root, cached for a consistent view; empty
   * when it is missing, not a directory, or reached through a symlink. A
   * directory is only read once its parent's listing shows it as a real
   * directory, so no path component ever resolves outside the root.
   */
  private async readDir(dir: string): Promise<Dirent[]> {
    const cached = this.dirs.get(dir);
    if (cached) return cached;
    this.signal?.throwIfAborted();
    let entries: Dirent[] = [];
    // `..` and absolute paths (from a `../x` or `/x` request) name nothing inside the root.
    const inside = dir !== '..' && !dir.startsWith('../') && !dir.startsWith('/');
    const isRealDir = inside && (dir === '.' || (await this.readDir(goDir(dir))).some((e) => e.name === goBase(dir) && e.isDirectory()));
    if (isRealDir) {
      try {
        entries = await fs.readdir(path.join(this.root, dir), { withFileTypes: true });
      } catch (err) {
        // Gone since its parent was listed: fsutil treats it as empty too.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOENT' && code !== 'ENOTDIR') throw err;
      }
    }
    if (this.visible) entries = entries.filter((e) => this.visible!(dir === '.' ? e.name : `${dir}/${e.name}`, e.isDirectory()));
    this.dirs.set(dir, entries);
    return entries;
  }
}

/** fsutil's test for a wildcard in a name: `*`, `?` or `[` not escaped by `\`. */
function containsWildcards(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const c = name[i];
    if (c === '\\') i++;
    else if (c === '*' || c === '?' || c === '[') return true;
  }
  return false;
}
