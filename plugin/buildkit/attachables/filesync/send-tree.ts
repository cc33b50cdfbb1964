import fs from 'node:fs';
import { BuildkitError } from '../../errors';
import { collectGarbage } from '../../runtime/collect-garbage';
import type { PacketStream } from './packet-stream';
import type { TreeEntry } from './walk-tree';
import { dataHeaderRoom, encodePacket, finishDataPacket, statOf } from './wire';

/** What one transfer sent, for counters and benchmarks. */
export interface SendTotals {
  /** Entries listed (STAT packets, every kind). */
  entries: number;
  /** Regular files whose content the receiver requested and we sent. */
  filesSent: number;
  /** Content bytes sent. */
  bytesSent: number;
}

/**
 * Content chunk size, as Go's sender uses (so the daemon's progress counts
 * the same bytes for us as for Go clients). Larger chunks used to stall
 * under Bun; see session/stream-window-fix.ts for why and for the fix.
 */
const chunkBytes = 32 * 1024;
/** Enough chunk buffers for everything the transport holds before it pushes back. */
const maxPooledBuffers = 64;
/** How much content goes out between two garbage-collection hints (see runtime/collect-garbage.ts). */
const collectEveryBytes = 32 * 1024 * 1024;
/**
 * How far (in entries) the listing may run ahead of the receiver's latest
 * request while content waits to be sent. The receiver reads the stream in
 * order and hands each entry to the goroutine that creates the files through
 * a queue of 128 (fsutil's receiver); content queued behind a longer run of
 * entries waits until files are created for all of them. Keeping the lead at
 * that queue's size lets the receiver write content while it creates files,
 * instead of creating every file first.
 */
const maxListingLead = 128;

/** A reusable chunk buffer and the callback that returns it to the pool. */
interface Chunk {
  buf: Buffer;
  release: () => void;
}

/**
 * The fsutil sender side of DiffCopy: list every entry as STAT packets (then
 * the end-of-listing STAT), serve content for each REQ as DATA chunks ended by
 * an empty DATA, and answer the receiver's FIN with ours. Requests are served
 * while the listing is still being sent, as the receiver starts early.
 *
 * Requests are served one file at a time, in the order they came: every
 * chunk goes into the same stream, whose flow control is the only limit, so
 * serving several files at once (as Go's sender does, to overlap blocking
 * reads) would only interleave them. Content is read with synchronous calls,
 * one chunk per call, straight into the packet's buffer: for the many small
 * files of a build context the promise-based calls cost several times more
 * CPU than the reads themselves, and one chunk's read holds the event loop
 * for microseconds. In-flight data stays bounded by the stream's
 * backpressure, whatever the size of the tree.
 */
export function sendTree(stream: PacketStream, batches: AsyncIterable<readonly TreeEntry[]>, signal?: AbortSignal): Promise<SendTotals> {
  return new TreeSender(stream, signal).run(batches);
}

/** The state of one transfer (see {@link sendTree}). */
class TreeSender {
  private readonly totals: SendTotals = { entries: 0, filesSent: 0, bytesSent: 0 };
  /** Content bytes sent since the last garbage-collection hint. */
  private sinceCollection = 0;
  /** Listed files not requested yet, by id. */
  private readonly contentFiles = new Map<number, string>();
  /**
   * Chunk buffers the transport is done with. The gRPC layer copies each
   * message into its own frame, so a chunk's buffer can be read into again
   * once its write completed: content costs no allocation per chunk.
   */
  private readonly pool: Chunk[] = [];
  /** Requested ids not served yet, from `head` on. */
  private requested: number[] = [];
  private head = 0;
  /** The largest id requested so far: how far the receiver has got in creating files. */
  private maxRequested = -1;
  private serving: Promise<void> | undefined;
  private isServing = false;
  private listingWaiter: (() => void) | undefined;
  private failure: unknown;

  constructor(
    private readonly stream: PacketStream,
    private readonly signal: AbortSignal | undefined,
  ) {}

  async run(batches: AsyncIterable<readonly TreeEntry[]>): Promise<SendTotals> {
    const listing = this.list(batches);
    listing.catch((err) => this.fail(err));
    try {
      for (;;) {
        if (this.failure) throw this.failure;
        const packet = await this.stream.next();
        if (!packet) throw new BuildkitError('protocol', 'receiver ended the transfer without FIN');
        if (packet.type === 'REQ') {
          this.request(packet.id ?? 0);
        } else if (packet.type === 'FIN') {
          await listing;
          await this.serving;
          if (this.failure) throw this.failure;
          await this.stream.write({ type: 'FIN' });
          this.stream.end();
          return this.totals;
        } else if (packet.type === 'ERR') {
          throw new BuildkitError('protocol', `error from receiver: ${Buffer.from(packet.data ?? []).toString('utf8')}`);
        } else {
          throw new BuildkitError('protocol', `unexpected ${packet.type} packet from receiver`);
        }
      }
    } catch (err) {
      const error = BuildkitError.from(this.failure ?? err);
      // Tell the receiver why, when the stream can still carry it.
      await this.stream.write({ type: 'ERR', data: Buffer.from(error.message) }).catch(() => undefined);
      throw error;
    }
  }

  private async list(batches: AsyncIterable<readonly TreeEntry[]>): Promise<void> {
    let id = 0;
    for await (const batch of batches) {
      for (const entry of batch) {
        // Only while content waits: with nothing requested (an unchanged tree) there is nothing to hold back for.
        while (id - this.maxRequested > maxListingLead && this.contentPending && !this.failure) {
          await new Promise<void>((resolve) => (this.listingWaiter = resolve));
        }
        if (this.failure) return;
        if (entry.hasContent) this.contentFiles.set(id, entry.absPath);
        if (!this.stream.queueEncoded(encodePacket({ type: 'STAT', stat: statOf(entry) }))) await this.stream.drained();
        id++;
      }
    }
    this.totals.entries = id;
    await this.stream.write({ type: 'STAT' });
  }

  private get contentPending(): boolean {
    return this.isServing || this.head < this.requested.length;
  }

  private request(id: number): void {
    this.requested.push(id);
    if (id > this.maxRequested) {
      this.maxRequested = id;
      this.wakeListing();
    }
    if (!this.isServing) this.serving = this.serveRequested().catch((err) => this.fail(err));
  }

  /** Drains the request queue; `isServing` flips synchronously, so a request arriving as it ends starts a new run. */
  private async serveRequested(): Promise<void> {
    this.isServing = true;
    try {
      while (this.head < this.requested.length && !this.failure) {
        const id = this.requested[this.head++]!;
        if (this.head === this.requested.length) {
          this.requested = [];
          this.head = 0;
        }
        await this.serveFile(id);
      }
    } finally {
      this.isServing = false;
      this.wakeListing();
    }
  }

  private async serveFile(id: number): Promise<void> {
    const absPath = this.contentFiles.get(id);
    this.contentFiles.delete(id);
    if (absPath === undefined) throw new BuildkitError('protocol', `receiver requested invalid file id ${id}`);
    let fd: number;
    try {
      fd = fs.openSync(absPath, 'r');
    } catch (err) {
      throw BuildkitError.from(err, `cannot read ${absPath}`);
    }
    let sent = 0;
    try {
      for (;;) {
        this.signal?.throwIfAborted();
        const chunk = this.takeChunk();
        let n: number;
        try {
          n = fs.readSync(fd, chunk.buf, dataHeaderRoom, chunkBytes, null);
        } catch (err) {
          chunk.release();
          throw BuildkitError.from(err, `cannot read ${absPath}`);
        }
        if (n === 0) {
          chunk.release();
          break;
        }
        if (!this.stream.queueEncoded(finishDataPacket(chunk.buf, id, n), chunk.release)) await this.stream.drained();
        sent += n;
      }
    } finally {
      fs.closeSync(fd);
    }
    if (!this.stream.queueEncoded(encodePacket({ type: 'DATA', id }))) await this.stream.drained();
    this.totals.filesSent++;
    this.totals.bytesSent += sent;
    this.sinceCollection += sent;
    if (this.sinceCollection >= collectEveryBytes) {
      this.sinceCollection = 0;
      collectGarbage();
    }
  }

  private takeChunk(): Chunk {
    const pooled = this.pool.pop();
    if (pooled) return pooled;
    const chunk: Chunk = {
      buf: Buffer.allocUnsafeSlow(dataHeaderRoom + chunkBytes),
      release: () => {
        if (this.pool.length < maxPooledBuffers) this.pool.push(chunk);
      },
    };
    return chunk;
  }

  private wakeListing(): void {
    const waiter = this.listingWaiter;
    this.listingWaiter = undefined;
    waiter?.();
  }

  private fail(err: unknown): void {
    this.failure ??= err;
    this.stream.fail(err);
    this.wakeListing();
  }
}
