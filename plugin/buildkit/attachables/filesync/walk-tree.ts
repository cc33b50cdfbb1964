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

/**
 * What a filter says about one entry: `include` sends it (and walks into a
 * directory); `exclude` drops it (a directory is not even read);
 * `descend-only` drops it but still walks a directory, whose entry is then
 * sent just before its first sent descendant (fsutil sends the parents of
 * every path it sends).
 */
export type FilterVerdict = 'include' | 'exclude' | 'descend-only';

/** A verdict, and for a directory the state its entries are matched with. */
export interface FilterDecision {
  verdict: FilterVerdict;
  /** Handed back as `parentState` for this directory's entries. */
  state?: unknown;
}

/**
 * Decides per entry, in walk order. Per-directory state travels through
 * `parentState` (the `state` returned for the containing directory,
 * `undefined` at the top), so one filter can serve concurrent walks.
 */
export interface TreeFilter {
  /** Decision for `relPath` (relative, forward slashes); `isDir` tells whether it is a directory. */
  match(relPath: string, isDir: boolean, parentState: unknown): FilterDecision;
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

  async function* walkDir(absDir: string, relDir: string, dirState: unknown, sent: boolean): AsyncGenerator<TreeEntry> {
    let names: string[];
    try {
      names = (await fs.readdir(absDir)).sort(compareNames);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A missing root is an error; a directory removed during the walk is simply not part of the transfer.
      if (relDir === '') throw err;
      if (code === 'ENOENT' || code === 'ENOTDIR') return;
      // fsutil ignores unreadable directories it was not going to send anyway.
      if (!sent && (code === 'EACCES' || code === 'EPERM')) return;
      throw err;
    }
    for (const name of names) {
      signal?.throwIfAborted();
      const relPath = relDir ? `${relDir}/${name}` : name;
      const absPath = path.join(absDir, name);
      let st: BigIntStats;
      try {
        st = await fs.lstat(absPath, { bigint: true });
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'ENOENT') continue;
        throw err;
      }
      const isDir = st.isDirectory();
      const { verdict, state } = filter ? filter.match(relPath, isDir, dirState) : { verdict: 'include' as const, state: undefined };
      if (verdict === 'exclude') continue;
      if (verdict === 'include') {
        const entry = await toEntry(relPath, absPath, st, seenInodes);
        yield* flushPending();
        yield entry;
        if (isDir) yield* walkDir(absPath, relPath, state, true);
      } else if (isDir) {
        // The directory is sent only if something inside it is.
        const entry = await toEntry(relPath, absPath, st, seenInodes);
        pendingParents.push(entry);
        yield* walkDir(absPath, relPath, state, false);
        if (pendingParents.at(-1) === entry) pendingParents.pop();
      }
    }
  }

  function* flushPending(): Generator<TreeEntry> {
    while (pendingParents.length > 0) yield pendingParents.shift()!;
  }

  yield* walkDir(root, '', undefined, true);
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
