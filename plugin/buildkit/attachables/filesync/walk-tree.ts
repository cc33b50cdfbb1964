import type { BigIntStats } from 'node:fs';
import fs from 'node:fs';
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

/** Any UTF-16 surrogate: only names with one sort differently in UTF-16 than in UTF-8. */
const surrogate = /[\uD800-\uDFFF]/;

/** Sort names in UTF-8 byte order; plain string order is the same unless an astral character is present. */
function sortNames(names: string[]): string[] {
  return names.some((n) => surrogate.test(n)) ? names.sort(compareNames) : names.sort();
}

/** Entries produced per batch: enough to amortise the async step, small enough to keep the event loop responsive. */
const batchEntries = 512;

/**
 * Walk `root` depth-first in fsutil's order: a directory right before its
 * contents, siblings in byte-wise name order, the root itself not included.
 * Symlinks are reported, never followed. Hard links after the first become
 * link entries (`linkname` = first path, no content).
 */
export async function* walkTree(root: string, filter?: TreeFilter, signal?: AbortSignal): AsyncGenerator<TreeEntry> {
  for await (const batch of walkTreeBatches(root, filter, signal)) yield* batch;
}

/**
 * {@link walkTree} in batches of entries, each read synchronously. Metadata
 * calls are where a walk spends its time: their synchronous forms cost a
 * fraction of the promise-based ones (one thread-pool round trip and one
 * promise per lstat), and a batch bounds how long the event loop is held, so
 * a transfer keeps serving content while the walk goes on. Between batches
 * the walk yields to pending I/O.
 */
export async function* walkTreeBatches(root: string, filter?: TreeFilter, signal?: AbortSignal): AsyncGenerator<TreeEntry[]> {
  const walker = new TreeWalker(root, filter, signal);
  for (let batch = walker.next(batchEntries); batch.length > 0; batch = walker.next(batchEntries)) {
    yield batch;
    await new Promise((resolve) => setImmediate(resolve));
  }
}

/** One directory being listed: its sorted names and how far the walk got. */
interface Frame {
  absDir: string;
  relDir: string;
  state: unknown;
  names: string[];
  next: number;
  /** This directory's own entry while it is held back (descend-only), so it can be dropped when nothing inside was sent. */
  heldBack?: TreeEntry;
}

/** An explicit-stack depth-first walk that can stop after any entry and resume. */
class TreeWalker {
  private readonly seenInodes = new Map<string, string>();
  /** Directories whose own entry was held back until a descendant is included. */
  private readonly pendingParents: TreeEntry[] = [];
  private readonly stack: Frame[] = [];

  constructor(
    root: string,
    private readonly filter: TreeFilter | undefined,
    private readonly signal: AbortSignal | undefined,
  ) {
    const frame = this.open(root, '', undefined, true);
    if (frame) this.stack.push(frame);
  }

  /** Up to about `max` more entries; empty when the walk is complete. */
  next(max: number): TreeEntry[] {
    const out: TreeEntry[] = [];
    while (out.length < max && this.stack.length > 0) {
      const frame = this.stack.at(-1)!;
      if (frame.next >= frame.names.length) {
        this.stack.pop();
        if (frame.heldBack && this.pendingParents.at(-1) === frame.heldBack) this.pendingParents.pop();
        continue;
      }
      this.signal?.throwIfAborted();
      this.visit(frame, frame.names[frame.next++]!, out);
    }
    return out;
  }

  private visit(frame: Frame, name: string, out: TreeEntry[]): void {
    const relPath = frame.relDir ? `${frame.relDir}/${name}` : name;
    const absPath = path.join(frame.absDir, name);
    // A name that vanished since the directory was read is simply not part of the transfer.
    const st = fs.lstatSync(absPath, { bigint: true, throwIfNoEntry: false });
    if (!st) return;
    const isDir = st.isDirectory();
    const { verdict, state } = this.filter ? this.filter.match(relPath, isDir, frame.state) : { verdict: 'include' as const, state: undefined };
    if (verdict === 'exclude') return;
    if (verdict === 'include') {
      const entry = toEntry(relPath, absPath, st, this.seenInodes);
      for (const parent of this.pendingParents) out.push(parent);
      this.pendingParents.length = 0;
      out.push(entry);
      if (isDir) this.descend(absPath, relPath, state, true);
    } else if (isDir) {
      // The directory is sent only if something inside it is.
      const entry = toEntry(relPath, absPath, st, this.seenInodes);
      this.pendingParents.push(entry);
      const child = this.descend(absPath, relPath, state, false);
      if (child) child.heldBack = entry;
      else if (this.pendingParents.at(-1) === entry) this.pendingParents.pop();
    }
  }

  private descend(absDir: string, relDir: string, state: unknown, sent: boolean): Frame | undefined {
    const frame = this.open(absDir, relDir, state, sent);
    if (frame) this.stack.push(frame);
    return frame;
  }

  private open(absDir: string, relDir: string, state: unknown, sent: boolean): Frame | undefined {
    let names: string[];
    try {
      names = sortNames(fs.readdirSync(absDir));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      // A missing root is an error; a directory removed during the walk is simply not part of the transfer.
      if (relDir === '') throw err;
      if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
      // fsutil ignores unreadable directories it was not going to send anyway.
      if (!sent && (code === 'EACCES' || code === 'EPERM')) return undefined;
      throw err;
    }
    return { absDir, relDir, state, names, next: 0 };
  }
}

function toEntry(relPath: string, absPath: string, st: BigIntStats, seenInodes: Map<string, string>): TreeEntry {
  const mode = goFileMode(Number(st.mode));
  let linkname = '';
  let size = st.isDirectory() ? 0n : st.size;
  let hasContent = isRegularFile(mode);
  if (st.isSymbolicLink()) {
    // Reported as stored; the daemon, not us, decides what a link may reach.
    linkname = fs.readlinkSync(absPath);
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
    devmajor: rdev === 0n ? 0 : Number(((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn)),
    devminor: rdev === 0n ? 0 : Number((rdev & 0xffn) | ((rdev >> 12n) & ~0xffn)),
    hasContent,
  };
}
