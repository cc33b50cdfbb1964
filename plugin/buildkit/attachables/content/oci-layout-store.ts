import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildkitError, GrpcStatus } from '../../errors';
import { compileFilters } from './content-filter';
import type { ContentInfo, IngestStatus } from './content-types';
import { ContentWriter, type IngestMeta, type WriteExpectations } from './content-writer';
import { blobPath, parseDigest, type DigestAlgorithm } from './digest';

/** Largest chunk one Read response carries (older daemons accept 4 MiB gRPC messages at most). */
export const maxReadChunk = 1024 * 1024;

/** Options of {@link OciLayoutStore.read}. */
export interface ReadOptions {
  /** First byte; < 0 reads from the start. */
  offset?: number;
  /** Bytes wanted; ≤ 0 or past the end reads to the end. */
  size?: number;
  /** Bytes per yielded chunk (at most {@link maxReadChunk}). */
  chunkSize?: number;
  signal?: AbortSignal;
}

const layoutFile = 'oci-layout';
const layoutContent = '{"imageLayoutVersion":"1.0.0"}';
const algorithms: DigestAlgorithm[] = ['sha256', 'sha384', 'sha512'];

/**
 * A content store on an OCI image layout directory: committed blobs under
 * `blobs/<alg>/<hex>` (read-only files), an `oci-layout` file, unfinished
 * writes under `ingest/`. `index.json` is not touched here (see oci-index.ts):
 * the daemon writes blobs, the client names them afterwards.
 *
 * The same layout the Go client's store (containerd's local store) produces,
 * so caches and images written by either can be read by the other.
 */
export class OciLayoutStore {
  /** Writers holding a ref's lock, by ref. */
  private readonly active = new Map<string, { writer?: ContentWriter; since: Date }>();
  /** Labels set by Update or on commit; kept in memory, as containerd's local store does without a label store. */
  private readonly labels = new Map<string, { labels: Record<string, string>; updatedAt: Date }>();

  constructor(
    /** The layout directory (created on the first commit). */
    readonly root: string,
  ) {}

  /** What is known about a committed blob; not-found when absent. */
  async info(digest: string): Promise<ContentInfo> {
    const parsed = parseDigest(digest);
    const stat = await fs.stat(blobPath(this.root, parsed)).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(digest) : BuildkitError.from(err, `content ${digest}`);
    });
    return this.infoOf(parsed.value, stat);
  }

  /**
   * Change a blob's labels. `fieldPaths` as in containerd: `labels` replaces
   * all labels, `labels.<key>` sets or (when absent from `labels`) removes
   * one; no paths replaces all labels. Other fields are immutable.
   */
  async update(digest: string, labels: Record<string, string>, fieldPaths: readonly string[] = []): Promise<ContentInfo> {
    const current = await this.info(digest);
    let next: Record<string, string> = { ...current.labels };
    if (fieldPaths.length === 0) next = { ...labels };
    for (const field of fieldPaths) {
      if (field === 'labels') next = { ...labels };
      else if (field.startsWith('labels.')) {
        const key = field.slice('labels.'.length);
        if (key in labels) next[key] = labels[key]!;
        else delete next[key];
      } else {
        throw new BuildkitError('invalid-argument', `cannot update ${JSON.stringify(field)} of content ${digest}: only labels are mutable`);
      }
    }
    this.labels.set(current.digest, { labels: next, updatedAt: new Date() });
    return this.info(digest);
  }

  /** Every committed blob matching the containerd-style filters (fields `digest`, `size`, `labels.<key>`). */
  async list(filters: readonly string[] = []): Promise<ContentInfo[]> {
    const match = compileFilters(filters);
    const out: ContentInfo[] = [];
    for (const algorithm of algorithms) {
      const dir = path.join(this.root, 'blobs', algorithm);
      const names = await fs.readdir(dir).catch((err: NodeJS.ErrnoException) => (err.code === 'ENOENT' ? [] : Promise.reject(err)));
      for (const name of names.sort()) {
        let parsed;
        try {
          parsed = parseDigest(`${algorithm}:${name}`);
        } catch {
          continue; // not a blob (e.g. a stray temp file)
        }
        const stat = await fs.stat(path.join(dir, name)).catch(() => undefined);
        if (!stat?.isFile()) continue;
        const info = this.infoOf(parsed.value, stat);
        const fields = (p: readonly string[]) =>
          p.length === 1 && p[0] === 'digest' ? info.digest
          : p.length === 1 && p[0] === 'size' ? String(info.size)
          : p.length === 2 && p[0] === 'labels' ? info.labels[p[1]!]
          : undefined;
        if (match(fields)) out.push(info);
      }
    }
    return out;
  }

  /** Remove a committed blob; not-found when absent. */
  async delete(digest: string): Promise<void> {
    const parsed = parseDigest(digest);
    await fs.unlink(blobPath(this.root, parsed)).catch((err: NodeJS.ErrnoException) => {
      throw err.code === 'ENOENT' ? notFound(digest) : BuildkitError.from(err, `deleting content ${digest}`);
    });
    this.labels.delete(parsed.value);
  }

  /**
   * A byte range of a blob, in chunks of at most 1 MiB, each with its offset
   * in the blob. Reading past the end is out of range; a size running past
   * the end is cut at the end (containerd's Read semantics).
   */
  async *read(digest: string, options: ReadOptions = {}): AsyncGenerator<{ offset: number; data: Buffer }> {
    const info = await this.info(digest);
    const start = Math.max(0, options.offset ?? 0);
    if (start > info.size) {
      throw new BuildkitError('invalid-argument', `read past object length ${info.size} bytes`, { grpcCode: GrpcStatus.OUT_OF_RANGE });
    }
    const wanted = options.size ?? 0;
    const end = wanted <= 0 || start + wanted > info.size ? info.size : start + wanted;
    const chunk = Math.min(Math.max(1, options.chunkSize ?? maxReadChunk), maxReadChunk);
    const file = await fs.open(blobPath(this.root, parseDigest(digest)), 'r');
    try {
      for (let at = start; at < end; ) {
        options.signal?.throwIfAborted();
        const buffer = Buffer.allocUnsafe(Math.min(chunk, end - at));
        const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) throw new BuildkitError('internal', `content ${digest} is shorter than its size`);
        yield { offset: at, data: buffer.subarray(0, bytesRead) };
        at += bytesRead;
      }
    } finally {
      await file.close();
    }
  }

  /** A whole blob in memory (for small blobs: manifests, configs, indexes). */
  async readAll(digest: string, signal?: AbortSignal): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const { data } of this.read(digest, { signal })) parts.push(data);
    return Buffer.concat(parts);
  }

  /**
   * Open a writer for `ref`. A second writer of a ref that is being written
   * is refused as unavailable (the daemon retries those); an existing ingest
   * of the ref is resumed at its offset; an `expected` digest that is already
   * stored fails with already-exists.
   */
  async writer(ref: string, expectations: WriteExpectations = {}): Promise<ContentWriter> {
    if (!ref) throw new BuildkitError('invalid-argument', 'a write needs a ref');
    const held = this.active.get(ref);
    if (held) throw new BuildkitError('unavailable', `ref ${ref} locked (since ${held.since.toISOString()})`);
    if (expectations.expected && (await this.has(expectations.expected))) {
      throw new BuildkitError('already-exists', `content ${expectations.expected}: already exists`);
    }
    const lock: { writer?: ContentWriter; since: Date } = { since: new Date() };
    this.active.set(ref, lock);
    try {
      lock.writer = await this.openIngest(ref, expectations);
      return lock.writer;
    } catch (err) {
      this.active.delete(ref);
      throw BuildkitError.from(err, `opening writer ${ref}`);
    }
  }

  /** Store bytes as a blob in one go; returns its info (an existing blob counts as stored). */
  async writeBlob(data: Uint8Array, expected?: string): Promise<ContentInfo> {
    const digest = expected ?? `sha256:${crypto.createHash('sha256').update(data).digest('hex')}`;
    if (await this.has(digest)) return this.info(digest);
    const writer = await this.writer(`write-blob-${crypto.randomUUID()}`, { total: data.length, expected: digest });
    try {
      await writer.append(data);
    } catch (err) {
      await writer.close();
      throw err;
    }
    return writer.commit().catch(async (err) => {
      if (err instanceof BuildkitError && err.code === 'already-exists') return this.info(digest);
      throw err;
    });
  }

  /** Progress of one unfinished write; not-found when there is none. */
  async status(ref: string): Promise<IngestStatus> {
    const live = this.active.get(ref)?.writer;
    if (live) return live.status();
    const dir = this.ingestDir(ref);
    const meta = await readMeta(dir);
    if (!meta) throw new BuildkitError('not-found', `ingest ref ${JSON.stringify(ref)}: not found`);
    const stat = await fs.stat(path.join(dir, 'data')).catch(() => undefined);
    return { ref, offset: stat?.size ?? 0, total: meta.total, expected: meta.expected, startedAt: new Date(meta.startedAt), updatedAt: stat?.mtime ?? new Date(meta.startedAt) };
  }

  /** Every unfinished write matching the filters (fields `ref`, `expected`). */
  async listStatuses(filters: readonly string[] = []): Promise<IngestStatus[]> {
    const match = compileFilters(filters);
    const names = await fs.readdir(path.join(this.root, 'ingest')).catch(() => [] as string[]);
    const out: IngestStatus[] = [];
    for (const name of names.sort()) {
      const meta = await readMeta(path.join(this.root, 'ingest', name));
      if (!meta) continue;
      const status = await this.status(meta.ref).catch(() => undefined);
      if (!status) continue;
      const fields = (p: readonly string[]) => (p.length === 1 && (p[0] === 'ref' || p[0] === 'expected') ? status[p[0]] : undefined);
      if (match(fields)) out.push(status);
    }
    return out;
  }

  /** Drop an unfinished write (and stop its writer, if one is open); not-found when there is none. */
  async abort(ref: string): Promise<void> {
    const dir = this.ingestDir(ref);
    const lock = this.active.get(ref);
    if (!lock && !(await readMeta(dir))) throw new BuildkitError('not-found', `ingest ref ${JSON.stringify(ref)}: not found`);
    await lock?.writer?.kill();
    this.active.delete(ref);
    await fs.rm(dir, { recursive: true, force: true });
  }

  /** True when the blob is committed. */
  async has(digest: string): Promise<boolean> {
    return fs.stat(blobPath(this.root, parseDigest(digest))).then((s) => s.isFile(), () => false);
  }

  private infoOf(digest: string, stat: { size: number; mtime: Date }): ContentInfo {
    const labelled = this.labels.get(digest);
    return { digest, size: stat.size, createdAt: stat.mtime, updatedAt: labelled?.updatedAt ?? stat.mtime, labels: { ...labelled?.labels } };
  }

  /** Ingests are named by a hash of the ref: refs are arbitrary text, file names are not. */
  private ingestDir(ref: string): string {
    return path.join(this.root, 'ingest', crypto.createHash('sha256').update(ref).digest('hex'));
  }

  private async openIngest(ref: string, expectations: WriteExpectations): Promise<ContentWriter> {
    const dir = this.ingestDir(ref);
    await fs.mkdir(dir, { recursive: true });
    const previous = await readMeta(dir);
    const meta: IngestMeta = {
      ref,
      startedAt: previous?.startedAt ?? new Date().toISOString(),
      total: expectations.total && expectations.total > 0 ? expectations.total : previous?.total ?? 0,
      expected: expectations.expected || previous?.expected || '',
    };
    if (meta.expected) parseDigest(meta.expected);
    await writeMeta(dir, meta);
    const file = await fs.open(path.join(dir, 'data'), 'a+');
    try {
      // Resuming: the running hash must cover what earlier writers left.
      const hash = crypto.createHash('sha256');
      const stat = await file.stat();
      const buffer = Buffer.allocUnsafe(maxReadChunk);
      for (let at = 0; at < stat.size; ) {
        const { bytesRead } = await file.read(buffer, 0, buffer.length, at);
        if (bytesRead === 0) break;
        hash.update(buffer.subarray(0, bytesRead));
        at += bytesRead;
      }
      return new ContentWriter(this.host, dir, file, meta, { hash, bytes: stat.size, updatedAt: stat.mtime });
    } catch (err) {
      await file.close();
      throw err;
    }
  }

  private readonly host = {
    install: async (ingestDir: string, digest: string, labels: Record<string, string> | undefined): Promise<ContentInfo> => {
      const target = blobPath(this.root, parseDigest(digest));
      if (await this.has(digest)) {
        await fs.rm(ingestDir, { recursive: true, force: true });
        throw new BuildkitError('already-exists', `content ${digest}: already exists`);
      }
      await fs.mkdir(path.dirname(target), { recursive: true });
      await fs.rename(path.join(ingestDir, 'data'), target);
      await fs.chmod(target, 0o444); // blobs are immutable once named by their digest
      await syncDir(path.dirname(target));
      await fs.rm(ingestDir, { recursive: true, force: true });
      await fs.writeFile(path.join(this.root, layoutFile), layoutContent, { flag: 'wx' }).catch((err: NodeJS.ErrnoException) => {
        if (err.code !== 'EEXIST') throw err;
      });
      if (labels && Object.keys(labels).length > 0) this.labels.set(digest, { labels: { ...labels }, updatedAt: new Date() });
      return this.info(digest);
    },
    saveMeta: (ingestDir: string, meta: IngestMeta) => writeMeta(ingestDir, meta),
    release: (ref: string) => void this.active.delete(ref),
  };
}

function notFound(digest: string): BuildkitError {
  return new BuildkitError('not-found', `content digest ${digest}: not found`);
}

async function readMeta(dir: string): Promise<IngestMeta | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, 'meta.json'), 'utf8')) as IngestMeta;
  } catch {
    return undefined;
  }
}

async function writeMeta(dir: string, meta: IngestMeta): Promise<void> {
  const tmp = path.join(dir, 'meta.json.tmp');
  await fs.writeFile(tmp, JSON.stringify(meta));
  await fs.rename(tmp, path.join(dir, 'meta.json'));
}

/** Make a rename durable: fsync the directory that holds the new name (best effort where unsupported). */
async function syncDir(dir: string): Promise<void> {
  const handle = await fs.open(dir, 'r').catch(() => undefined);
  if (!handle) return;
  await handle.sync().catch(() => undefined);
  await handle.close();
}
