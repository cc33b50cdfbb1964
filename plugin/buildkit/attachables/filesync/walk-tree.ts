import type { BigIntStats } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { goFileMode, isRegularFile } from './go-file-mode';

/** One entry of a transfer, in the fields fsutil's `Stat` carries. */
export interface TreeEntry {
  /** Relative to the transfer root, forward slashes, never `.`/`..`. */
  path: string;
  /** Absolute path on this machine (never sent). */
  absPath: string;
  /** Go FileMode bits. */
  mode: number;
  /** Bytes for regular files and symlinks; 0 for directories and hard-link entries. */
  size: bigint;
  /** Nanoseconds since the epoch. */
  modTimeNs: bigint;
  /** Symlink target as stored, or for a hard link the path of the first entry sharing the inode. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** True for entries whose content may be requested (regular files that are not hard-link entries). */
  hasContent: boolean;
}

/** What a filter says about a path (relative, forward slashes). */
export type FilterVerdict = 'include' | 'exclude' | 'exclude-dir-contents';

/** Decides per entry; a directory that is excluded can still be entered when children may match. */
export interface TreeFilter {
  /** Verdict for `relPath`; `isDir` tells whether it is a directory. */
  match(relPath: string, isDir: boolean): FilterVerdict | 'descend-only';
}

/** Compare names by their UTF-8 bytes, as Go sorts them (JS string order differs for astral characters). */
export function compareNames(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * Walk `root` depth-first in fsutil's order: a directory right before its
 * contents, siblings in byte-wise name order, the root itself not included.
 * Symlinks are reported, never followed. Hard links after the first become
 * link entries (`linkname` = first path, no content).
 */
export async function* walkTree(root: string, filter?: TreeFilter, signal?: AbortSignal): AsyncGenerator<TreeEntry> {
  const seenInodes = new Map<string, string>();
  // Directories whose own entry was held back until a descendant is included.
  const pendingParents: TreeEntry[] = [];

  async function* walkDir(absDir: string, relDir: string): AsyncGenerator<TreeEntry> {
    const names = (await fs.readdir(absDir)).sort(compareNames);
    for (const name of names) {
      signal?.throwIfAborted();
      const relPath = relDir ? `${relDir}/${name}` : name;
      const absPath = path.join(absDir, name);
      let st: BigIntStats;
      try {
        st = await fs.lstat(absPath, { bigint: true });
      } catch (err) {
        // A file removed during the walk is simply not part of the transfer.
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const entry = await toEntry(relPath, absPath, st, seenInodes);
      const isDir = st.isDirectory();
      const verdict = filter ? filter.match(relPath, isDir) : 'include';
      if (verdict === 'exclude') continue;
      if (verdict === 'include') {
        yield* flushPending();
        yield entry;
        if (isDir) yield* walkDir(absPath, relPath);
        continue;
      }
      if (isDir) {
        // 'descend-only' or 'exclude-dir-contents': the directory is sent only
        // if something inside it is included (its entry goes out just before).
        if (verdict === 'exclude-dir-contents') continue;
        pendingParents.push(entry);
        yield* walkDir(absPath, relPath);
        if (pendingParents.at(-1) === entry) pendingParents.pop();
      }
    }
  }

  function* flushPending(): Generator<TreeEntry> {
    while (pendingParents.length > 0) yield pendingParents.shift()!;
  }

  yield* walkDir(root, '');
}

async function toEntry(relPath: string, absPath: string, st: BigIntStats, seenInodes: Map<string, string>): Promise<TreeEntry> {
  const mode = goFileMode(Number(st.mode));
  let linkname = '';
  let size = st.isDirectory() ? 0n : st.size;
  let hasContent = isRegularFile(mode);
  if (st.isSymbolicLink()) {
    // Reported as stored; the daemon, not us, decides what a link may reach.
    linkname = await fs.readlink(absPath);
  } else if (hasContent && st.nlink > 1n) {
    const key = `${st.dev}:${st.ino}`;
    const first = seenInodes.get(key);
    if (first !== undefined) {
      linkname = first;
      size = 0n;
      hasContent = false;
    } else {
      seenInodes.set(key, relPath);
    }
  }
  const rdev = st.rdev;
  return {
    path: relPath,
    absPath,
    mode,
    size,
    modTimeNs: st.mtimeNs,
    linkname,
    devmajor: Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    devminor: Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
    hasContent,
  };
}
