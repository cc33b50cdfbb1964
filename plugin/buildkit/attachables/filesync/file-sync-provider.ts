import type * as grpc from '@grpc/grpc-js';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { failStream, headerValues, rawMethod, Status } from '../call-status';
import { PacketStream } from './packet-stream';
import { sendTree } from './send-tree';
import { walkTree, type TreeFilter } from './walk-tree';

/** A directory a session serves under a local name. */
export interface SyncedDir {
  /** Absolute path on this machine. */
  dir: string;
  /** Entries never sent, whatever the daemon asks (client-side ignore rules). */
  filter?: TreeFilter;
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

/** Builds a filter from the include/exclude/followpaths headers of a DiffCopy call. */
export type RequestFilterFactory = (request: { includePatterns: string[]; excludePatterns: string[]; followPaths: string[] }, dir: SyncedDir) => TreeFilter | undefined;

/**
 * `moby.filesync.v1.FileSync`: serves local directories to the daemon by
 * name (`dir-name` header). Unknown names are refused with NOT_FOUND, so a
 * session serves exactly the directories it was given.
 */
export class FileSyncProvider implements Attachable {
  readonly counters: FileSyncCounters = { diffCopyCalls: 0, filesSent: 0, bytesSent: 0 };
  private readonly dirs: ReadonlyMap<string, SyncedDir>;

  constructor(
    dirs: Record<string, SyncedDir>,
    private readonly requestFilter?: RequestFilterFactory,
  ) {
    this.dirs = new Map(Object.entries(dirs));
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
    const synced = this.dirs.get(name);
    if (!synced) return failStream(call, Status.NOT_FOUND, `no access allowed to dir "${name}"`);
    const request = {
      includePatterns: headerValues(call.metadata, 'include-patterns'),
      excludePatterns: headerValues(call.metadata, 'exclude-patterns'),
      followPaths: headerValues(call.metadata, 'followpaths'),
    };
    const hasPatterns = request.includePatterns.length + request.excludePatterns.length + request.followPaths.length > 0;
    if (hasPatterns && !this.requestFilter) {
      return failStream(call, Status.UNIMPLEMENTED, 'include/exclude patterns are not supported by this session');
    }
    const filter = hasPatterns ? this.requestFilter!(request, synced) : synced.filter;
    const abort = new AbortController();
    call.once('cancelled', () => abort.abort());
    const stream = new PacketStream(call);
    try {
      const totals = await sendTree(stream, walkTree(synced.dir, filter, abort.signal), abort.signal);
      this.counters.filesSent += totals.filesSent;
      this.counters.bytesSent += totals.bytesSent;
    } catch (err) {
      abort.abort();
      failStream(call, Status.INTERNAL, err instanceof Error ? err.message : String(err));
    }
  }
}
