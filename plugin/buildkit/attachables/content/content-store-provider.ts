import type * as grpc from '@grpc/grpc-js';
import { BuildkitError, GrpcStatus, type BuildkitErrorCode } from '../../errors';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { statusError } from '../call-status';
import type { ContentWriter } from './content-writer';
import { OciLayoutStore } from './oci-layout-store';
import { contentService, type ContentMessages, type WriteRequest, type WriteResponse } from './wire';

/** The request header naming the store a call is for (`session/content/attachable.go`). */
export const storeIdHeader = 'buildkit-attachable-store-id';

/** Store IDs the daemon asks for (protocol doc §3.10). */
export const storeIds = {
  /** `local` cache export `dest` / import `src`: the attribute value, verbatim. */
  localCache: (dir: string) => `local:${dir}`,
  /** `oci-layout://` sources: the source's `oci.store` attribute. */
  ociLayout: (storeId: string) => `oci:${storeId}`,
  /** `oci`/`docker` exporters with `tar=false`. */
  export: 'export',
} as const;

/** List responses carry this many infos each, as containerd's server does. */
const listBatch = 100;

/**
 * Bytes per Read response. containerd's server sends 1 MiB; under Bun, gRPC
 * messages much larger than HTTP/2's initial 64 KiB window can stall the
 * session's inner server (the FileSync sender found the same), so reads go
 * out in 32 KiB messages like FileSync content.
 */
const defaultReadChunk = 32 * 1024;

const grpcCodeOf: Partial<Record<BuildkitErrorCode, number>> = {
  'invalid-argument': GrpcStatus.INVALID_ARGUMENT,
  'not-found': GrpcStatus.NOT_FOUND,
  'already-exists': GrpcStatus.ALREADY_EXISTS,
  'failed-precondition': GrpcStatus.FAILED_PRECONDITION,
  unavailable: GrpcStatus.UNAVAILABLE,
  'permission-denied': GrpcStatus.PERMISSION_DENIED,
  cancelled: GrpcStatus.CANCELLED,
};

/**
 * containerd's `Content` service inside a session: the daemon reads OCI
 * layouts and local caches, and writes exported images and caches, through
 * it. Each call names its store in the `buildkit-attachable-store-id`
 * header; only the stores given here are served (anything else is
 * NOT_FOUND), so a session exposes exactly the directories its build needs.
 */
export class ContentStoreProvider implements Attachable {
  private readonly stores: ReadonlyMap<string, OciLayoutStore>;
  private readonly readChunk: number;

  /**
   * `stores`: store ID (see {@link storeIds}) → a store, or the directory of
   * one. `readChunkBytes`: bytes per Read response (default 32 KiB, at most 1 MiB).
   */
  constructor(stores: Record<string, OciLayoutStore | string>, options: { readChunkBytes?: number } = {}) {
    this.stores = new Map(Object.entries(stores).map(([id, s]) => [id, typeof s === 'string' ? new OciLayoutStore(s) : s]));
    this.readChunk = options.readChunkBytes ?? defaultReadChunk;
  }

  /** The store IDs served. */
  get ids(): string[] {
    return [...this.stores.keys()];
  }

  /** The store served under `id`. */
  store(id: string): OciLayoutStore | undefined {
    return this.stores.get(id);
  }

  register(registry: SessionServiceRegistry): void {
    registry.addService(contentService, {
      Info: this.unary('Info', (store, r) => store.info(r.digest)),
      Update: this.unary('Update', (store, r) => store.update(r.digest, r.labels, r.fieldPaths)),
      Delete: this.unary('Delete', (store, r) => store.delete(r.digest)),
      Status: this.unary('Status', (store, r) => store.status(r.ref)),
      ListStatuses: this.unary('ListStatuses', (store, r) => store.listStatuses(r.filters)),
      Abort: this.unary('Abort', (store, r) => store.abort(r.ref)),
      List: (call: grpc.ServerWritableStream<ContentMessages['List'][0], ContentMessages['List'][1]>) => void this.list(call),
      Read: (call: grpc.ServerWritableStream<ContentMessages['Read'][0], ContentMessages['Read'][1]>) => void this.read(call),
      Write: (call: grpc.ServerDuplexStream<WriteRequest, WriteResponse>) => void this.write(call),
    });
  }

  /** The store a call names; unknown or missing IDs are refused. */
  private choose(metadata: grpc.Metadata): OciLayoutStore {
    const id = metadata.get(storeIdHeader)[0];
    if (id === undefined) throw new BuildkitError('invalid-argument', `request lacks metadata ${JSON.stringify(storeIdHeader)}`);
    const store = this.stores.get(String(id));
    if (!store) throw new BuildkitError('not-found', `unknown store ${String(id)}`);
    return store;
  }

  private unary<M extends keyof ContentMessages>(
    _name: M,
    run: (store: OciLayoutStore, request: ContentMessages[M][0]) => Promise<ContentMessages[M][1]>,
  ): grpc.handleUnaryCall<ContentMessages[M][0], ContentMessages[M][1]> {
    return (call, callback) => {
      Promise.resolve()
        .then(() => run(this.choose(call.metadata), call.request))
        .then((result) => callback(null, result), (err) => callback(toStatus(err)));
    };
  }

  private async list(call: grpc.ServerWritableStream<ContentMessages['List'][0], ContentMessages['List'][1]>): Promise<void> {
    try {
      const infos = await this.choose(call.metadata).list(call.request.filters);
      for (let i = 0; i < infos.length; i += listBatch) await send(call, infos.slice(i, i + listBatch));
      call.end();
    } catch (err) {
      fail(call, err);
    }
  }

  private async read(call: grpc.ServerWritableStream<ContentMessages['Read'][0], ContentMessages['Read'][1]>): Promise<void> {
    const abort = new AbortController();
    call.once('cancelled', () => abort.abort());
    try {
      const { digest, offset, size } = call.request;
      for await (const chunk of this.choose(call.metadata).read(digest, { offset, size, chunkSize: this.readChunk, signal: abort.signal })) await send(call, chunk);
      call.end();
    } catch (err) {
      fail(call, err);
    }
  }

  /**
   * One Write stream (containerd's server semantics, which the daemon's
   * writer expects): the first message names the ref and takes its lock;
   * `stat` reports progress; `write`/`commit` append at the current offset
   * (offset 0 restarts the write, any other offset must be the current one);
   * `commit` verifies and stores, answers and ends the stream. A stream that
   * ends without commit leaves the ingest for a later writer to resume.
   */
  private async write(call: grpc.ServerDuplexStream<WriteRequest, WriteResponse>): Promise<void> {
    // grpc-js does not end the request iteration on cancel; destroying the call does.
    call.once('cancelled', () => call.destroy());
    let writer: ContentWriter | undefined;
    try {
      const store = this.choose(call.metadata);
      // destroyOnReturn: false, or ending the loop destroys the call before its status is sent.
      for await (const request of call.iterator({ destroyOnReturn: false }) as AsyncIterable<WriteRequest>) {
        if (!writer) {
          if (!request.ref) throw new BuildkitError('invalid-argument', 'first message must have a reference');
          writer = await store.writer(request.ref, { total: request.total, expected: request.expected });
        }
        if (request.expected && (await store.has(request.expected))) {
          await store.abort(writer.ref).catch(() => undefined);
          throw new BuildkitError('already-exists', `blob with expected digest ${request.expected} exists`);
        }
        await writer.expect({ total: request.total, expected: request.expected });
        if (request.action !== 'stat') {
          if (request.offset > 0 && request.offset !== writer.offset) {
            throw new BuildkitError('invalid-argument', `write @${request.offset} must occur at current offset ${writer.offset}`, { grpcCode: GrpcStatus.OUT_OF_RANGE });
          }
          if (request.offset === 0 && writer.offset > 0) await writer.truncate();
          await writer.append(request.data);
        }
        const status = writer.status();
        const response: WriteResponse = {
          action: request.action, offset: writer.offset, total: status.total, digest: writer.digest(),
          startedAt: status.startedAt, updatedAt: status.updatedAt,
        };
        if (request.action === 'commit') {
          const committing = writer;
          writer = undefined; // commit releases the lock, whatever its outcome
          await committing.commit(request.labels ? { labels: request.labels } : {});
          await send(call, response);
          call.end();
          return;
        }
        await send(call, response);
      }
      // Release the lock before the status goes out: a client that saw this call end may open the next writer at once.
      const open = writer;
      writer = undefined;
      await open?.close();
      call.end();
    } catch (err) {
      const open = writer;
      writer = undefined;
      await open?.close().catch(() => undefined);
      fail(call, err);
    }
  }
}

/** Write one message, waiting while the transport is full (and giving up when the call ends meanwhile). */
async function send<T>(call: grpc.ServerWritableStream<unknown, T> | grpc.ServerDuplexStream<unknown, T>, message: T): Promise<void> {
  if (call.write(message)) return;
  await new Promise<void>((resolve, reject) => {
    const settle = (ok: boolean) => () => {
      call.off('drain', drained);
      call.off('close', ended);
      call.off('cancelled', ended);
      if (ok) resolve();
      else reject(new BuildkitError('cancelled', 'the daemon ended the call'));
    };
    const drained = settle(true);
    const ended = settle(false);
    call.on('drain', drained);
    call.on('close', ended);
    call.on('cancelled', ended);
  });
}

function toStatus(err: unknown): grpc.ServiceError {
  const error = BuildkitError.from(err);
  return statusError(error.grpcCode ?? grpcCodeOf[error.code] ?? GrpcStatus.INTERNAL, error.message);
}

function fail(call: grpc.ServerWritableStream<unknown, unknown> | grpc.ServerDuplexStream<unknown, unknown>, err: unknown): void {
  if (call.cancelled || call.destroyed) return;
  const status = toStatus(err);
  // grpc-js turns an 'error' event on a server stream into the call's final status.
  call.emit('error', { code: status.code, details: status.details });
}
