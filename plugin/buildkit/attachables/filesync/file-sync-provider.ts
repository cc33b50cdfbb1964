import type * as grpc from '@grpc/grpc-js';
import { BuildkitError } from '../../errors';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { failStream, headerValues, rawMethod, Status } from '../call-status';
import { admits, allFilters } from './all-filters';
import { PacketStream } from './packet-stream';
import { checkPatterns, createPathFilter, type PathFilterOptions } from './patterns/path-filter';
import { refuseDiffCopy } from './refuse-diff-copy';
import { sendTree } from './send-tree';
import { walkTreeBatches, type TreeFilter } from './walk-tree';

/** A directory a session serves under a local name. */
export interface SyncedDir {
  /** Absolute path on this machine. */
  dir: string;
  /**
   * Client-side rules applied to every transfer of this directory, on top of
   * what the daemon asks: an entry is sent only if both allow it. Pattern
   * options have the daemon's semantics (e.g. `{ excludePatterns }` from
   * `readDockerignore`); a {@link TreeFilter} decides directly.
   */
  filter?: PathFilterOptions | TreeFilter;
}

/** Transfer counters of one FileSync provider. */
export interface FileSyncCounters {
  /** DiffCopy calls the daemon made. */
  diffCopyCalls: number;
  /** Regular files sent. */
  filesSent: number;
  /** Content bytes sent. */
  bytesSent: number;
}

/** The filtering headers of one DiffCopy call (already query-unescaped). */
export interface DiffCopyRequest {
  includePatterns: string[];
  excludePatterns: string[];
  followPaths: string[];
}

/**
 * Replaces the built-in handling of the daemon's filtering headers (fsutil
 * semantics). The directory's own `filter` still applies on top.
 */
export type RequestFilterFactory = (request: DiffCopyRequest, dir: SyncedDir, signal: AbortSignal) => TreeFilter | undefined | Promise<TreeFilter | undefined>;

/**
 * `moby.filesync.v1.FileSync`: serves local directories to the daemon by
 * name (`dir-name` header). Unknown names are refused (an fsutil ERR packet,
 * then NOT_FOUND; see refuse-diff-copy.ts), so a session serves exactly the
 * directories it was given. The daemon's
 * `include-patterns`, `exclude-patterns` and `followpaths` are applied as
 * fsutil does; symlinks are sent as links and never followed, so nothing
 * outside a served directory is ever sent.
 */
export class FileSyncProvider implements Attachable {
  readonly counters: FileSyncCounters = { diffCopyCalls: 0, filesSent: 0, bytesSent: 0 };
  /** The local names the daemon asked for, served or refused, each once in the order first asked. */
  readonly requested = new Set<string>();
  private readonly dirs: ReadonlyMap<string, SyncedDir>;

  constructor(
    dirs: Record<string, SyncedDir>,
    private readonly requestFilter?: RequestFilterFactory,
  ) {
    this.dirs = new Map(Object.entries(dirs));
    // Malformed client-side patterns are the caller's mistake: report it now, not at the daemon's first request.
    for (const [name, synced] of this.dirs) {
      if (synced.filter && !('match' in synced.filter)) checkPatterns(synced.filter, `FileSync dir "${name}"`);
    }
  }

  /** The local names this provider serves. */
  get names(): string[] {
    return [...this.dirs.keys()];
  }

  register(registry: SessionServiceRegistry): void {
    registry.addService(
      { DiffCopy: rawMethod('/moby.filesync.v1.FileSync/DiffCopy', true, true) },
      { DiffCopy: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => void this.diffCopy(call) },
    );
  }

  private async diffCopy(call: grpc.ServerDuplexStream<Buffer, Buffer>): Promise<void> {
    this.counters.diffCopyCalls++;
    const name = headerValues(call.metadata, 'dir-name')[0] ?? '';
    this.requested.add(name);
    const synced = this.dirs.get(name);
    if (!synced) return refuseDiffCopy(call, Status.NOT_FOUND, `no access allowed to dir "${name}"`);
    const request: DiffCopyRequest = {
      includePatterns: headerValues(call.metadata, 'include-patterns'),
      excludePatterns: headerValues(call.metadata, 'exclude-patterns'),
      followPaths: headerValues(call.metadata, 'followpaths'),
    };
    const abort = new AbortController();
    call.once('cancelled', () => abort.abort());
    let filter: TreeFilter | undefined;
    try {
      filter = await this.filterFor(request, synced, abort.signal);
    } catch (err) {
      const error = BuildkitError.from(err);
      return refuseDiffCopy(call, error.code === 'invalid-argument' ? Status.INVALID_ARGUMENT : Status.INTERNAL, error.message);
    }
    const stream = new PacketStream(call);
    try {
      const totals = await sendTree(stream, walkTreeBatches(synced.dir, filter, abort.signal), abort.signal);
      this.counters.filesSent += totals.filesSent;
      this.counters.bytesSent += totals.bytesSent;
    } catch (err) {
      abort.abort();
      failStream(call, Status.INTERNAL, err instanceof Error ? err.message : String(err));
    }
  }

  /** The client's own filter and the daemon's request, combined; built per call since followpaths depend on the tree now. */
  private async filterFor(request: DiffCopyRequest, synced: SyncedDir, signal: AbortSignal): Promise<TreeFilter | undefined> {
    const own = synced.filter === undefined || 'match' in synced.filter ? synced.filter : await createPathFilter(synced.dir, synced.filter, { signal });
    const daemon = this.requestFilter
      ? await this.requestFilter(request, synced, signal)
      : await createPathFilter(synced.dir, request, { signal, visible: own && ((p, isDir) => admits(own, p, isDir)) });
    return allFilters(own, daemon);
  }
}
