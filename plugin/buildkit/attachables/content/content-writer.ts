import crypto from 'node:crypto';
import { createReadStream } from 'node:fs';
import path from 'node:path';
import type { FileHandle } from 'node:fs/promises';
import { BuildkitError } from '../../errors';
import type { ContentInfo, IngestStatus } from './content-types';
import { parseDigest, type DigestAlgorithm } from './digest';

/** Persisted description of an ingest (`ingest/<id>/meta.json`), so a later writer can resume it. */
export interface IngestMeta {
  ref: string;
  startedAt: string;
  total: number;
  expected: string;
}

/** What a writer needs from its store. */
export interface WriterHost {
  /** Move the verified ingest data into `blobs/` and drop the ingest; already-exists when the blob is there. */
  install(ingestDir: string, digest: string, labels: Record<string, string> | undefined): Promise<ContentInfo>;
  /** Persist changed expectations of an ingest. */
  saveMeta(ingestDir: string, meta: IngestMeta): Promise<void>;
  /** Give the ref's lock back. */
  release(ref: string): void;
}

/** Expectations the final content is checked against on commit. */
export interface WriteExpectations {
  /** Final size; ≤ 0 = unchecked. */
  total?: number;
  /** Final digest; empty = unchecked. */
  expected?: string;
}

/**
 * One open, resumable write into a content store, holding the lock on its ref
 * until it commits or closes. Bytes go to an ingest file (`ingest/<id>/data`)
 * and are hashed as they arrive; commit checks size and digest, fsyncs, and
 * renames the file into `blobs/` so a blob is never seen half-written.
 * Closing without commit keeps the ingest: a new writer with the same ref
 * resumes at its offset (containerd's semantics, which the daemon relies on
 * to continue interrupted transfers).
 */
export class ContentWriter {
  private hash: crypto.Hash;
  private written: number;
  private lastWrite: Date;
  private state: 'open' | 'done' | 'aborted' = 'open';

  /** @internal Created by the store, which has locked the ref. */
  constructor(
    private readonly host: WriterHost,
    private readonly ingestDir: string,
    private readonly file: FileHandle,
    private meta: IngestMeta,
    resumed: { hash: crypto.Hash; bytes: number; updatedAt: Date },
  ) {
    this.hash = resumed.hash;
    this.written = resumed.bytes;
    this.lastWrite = resumed.updatedAt;
  }

  /** The name this write is known by. */
  get ref(): string {
    return this.meta.ref;
  }

  /** Bytes written so far. */
  get offset(): number {
    return this.written;
  }

  /** Digest (sha256) of the bytes written so far. */
  digest(): string {
    return `sha256:${this.hash.copy().digest('hex')}`;
  }

  /** Current progress. */
  status(): IngestStatus {
    return {
      ref: this.meta.ref,
      offset: this.written,
      total: this.meta.total,
      expected: this.meta.expected,
      startedAt: new Date(this.meta.startedAt),
      updatedAt: this.lastWrite,
    };
  }

  /** Record a newer announced size or digest (the latest one is checked on commit). */
  async expect(expectations: WriteExpectations): Promise<void> {
    this.ensureOpen();
    const total = expectations.total && expectations.total > 0 ? expectations.total : this.meta.total;
    const expected = expectations.expected || this.meta.expected;
    if (expected) parseDigest(expected);
    if (total === this.meta.total && expected === this.meta.expected) return;
    this.meta = { ...this.meta, total, expected };
    await this.host.saveMeta(this.ingestDir, this.meta);
  }

  /** Append bytes at the current offset. */
  async append(data: Uint8Array): Promise<void> {
    this.ensureOpen();
    if (data.length === 0) return;
    let done = 0;
    while (done < data.length) {
      // The file is opened in append mode: positions are ignored, the kernel appends.
      const { bytesWritten } = await this.file.write(data, done, data.length - done);
      done += bytesWritten;
    }
    this.hash.update(data);
    this.written += data.length;
    this.lastWrite = new Date();
  }

  /** Drop everything written so far (a write restarting at offset 0). */
  async truncate(): Promise<void> {
    this.ensureOpen();
    await this.file.truncate(0);
    this.hash = crypto.createHash('sha256');
    this.written = 0;
    this.lastWrite = new Date();
  }

  /**
   * Verify and store the content. Size and digest are checked against the
   * given expectations, or else the announced ones; a mismatch fails with
   * failed-precondition and keeps the ingest for another try. If the blob
   * already exists, the ingest is dropped and already-exists is raised
   * (callers that only need the blob present treat that as success).
   * The lock is released either way.
   */
  async commit(expectations: WriteExpectations & { labels?: Record<string, string> } = {}): Promise<ContentInfo> {
    this.ensureOpen();
    await this.expect(expectations);
    this.state = 'done';
    try {
      await this.file.sync();
      await this.file.close();
      const { total, expected } = this.meta;
      if (total > 0 && this.written !== total) {
        throw new BuildkitError('failed-precondition', `unexpected commit size ${this.written}, expected ${total}`);
      }
      const algorithm: DigestAlgorithm = expected ? parseDigest(expected).algorithm : 'sha256';
      const actual = algorithm === 'sha256' ? this.digest() : await rehash(path.join(this.ingestDir, 'data'), algorithm);
      if (expected && actual !== expected) {
        throw new BuildkitError('failed-precondition', `unexpected commit digest ${actual}, expected ${expected}`);
      }
      return await this.host.install(this.ingestDir, actual, expectations.labels);
    } finally {
      this.host.release(this.meta.ref);
    }
  }

  /** Stop writing and release the lock; the ingest stays for a later writer to resume. */
  async close(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'done';
    try {
      await this.file.close();
    } finally {
      this.host.release(this.meta.ref);
    }
  }

  /** @internal The store aborted this write: fail every later call. */
  async kill(): Promise<void> {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    await this.file.close().catch(() => undefined);
  }

  private ensureOpen(): void {
    if (this.state === 'aborted') throw new BuildkitError('not-found', `write ${this.meta.ref} was aborted`);
    if (this.state === 'done') throw new BuildkitError('failed-precondition', `write ${this.meta.ref} is already closed`);
  }
}

/** Digest an ingest's data with an algorithm other than the running sha256 (rare: sha384/sha512 layouts). */
async function rehash(file: string, algorithm: DigestAlgorithm): Promise<string> {
  const hash = crypto.createHash(algorithm);
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return `${algorithm}:${hash.digest('hex')}`;
}
