import fs from 'node:fs';
import { BuildkitError } from '../../errors';
import type { PacketStream } from './packet-stream';
import type { TreeEntry } from './walk-tree';
import { statOf } from './wire';

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
 * Content chunk size: Go's sender uses 32 KiB. Larger chunks (256 KiB) made
 * transfers of files over one chunk stall under Bun, whose HTTP/2 flow
 * control loses track of single large writes; Node was unaffected.
 */
const chunkBytes = 32 * 1024;
/** Files served at once, as the Go sender does. */
const parallelFiles = 4;

/**
 * The fsutil sender side of DiffCopy: list every entry as STAT packets (then
 * the end-of-listing STAT), serve content for each REQ as DATA chunks ended by
 * an empty DATA, and answer the receiver's FIN with ours. Requests are served
 * while the listing is still being sent, as the receiver starts early.
 */
export async function sendTree(stream: PacketStream, entries: AsyncIterable<TreeEntry>, signal?: AbortSignal): Promise<SendTotals> {
  const totals: SendTotals = { entries: 0, filesSent: 0, bytesSent: 0 };
  const contentPaths = new Map<number, string>();
  const pending: number[] = [];
  const active = new Set<Promise<void>>();
  let failure: unknown;
  const fail = (err: unknown) => {
    failure ??= err;
    stream.fail(err);
  };

  const serve = async (id: number) => {
    const absPath = contentPaths.get(id);
    contentPaths.delete(id);
    if (absPath === undefined) throw new BuildkitError('protocol', `receiver requested invalid file id ${id}`);
    let sent = 0;
    try {
      for await (const chunk of fs.createReadStream(absPath, { highWaterMark: chunkBytes, signal })) {
        await stream.write({ type: 'DATA', id, data: chunk as Buffer });
        sent += (chunk as Buffer).length;
      }
    } catch (err) {
      throw BuildkitError.from(err, `cannot read ${absPath}`);
    }
    await stream.write({ type: 'DATA', id });
    totals.filesSent++;
    totals.bytesSent += sent;
  };

  const pump = () => {
    while (active.size < parallelFiles && pending.length > 0) {
      const job = serve(pending.shift()!).catch(fail);
      active.add(job);
      void job.finally(() => {
        active.delete(job);
        pump();
      });
    }
  };

  const listing = (async () => {
    let id = 0;
    for await (const entry of entries) {
      if (failure) return;
      if (entry.hasContent) contentPaths.set(id, entry.absPath);
      await stream.write({ type: 'STAT', stat: statOf(entry) });
      id++;
    }
    totals.entries = id;
    await stream.write({ type: 'STAT' });
  })();
  listing.catch(fail);

  try {
    for (;;) {
      if (failure) throw failure;
      const packet = await stream.next();
      if (!packet) throw new BuildkitError('protocol', 'receiver ended the transfer without FIN');
      if (packet.type === 'REQ') {
        pending.push(packet.id ?? 0);
        pump();
      } else if (packet.type === 'FIN') {
        await listing;
        await Promise.all(active);
        if (failure) throw failure;
        await stream.write({ type: 'FIN' });
        stream.end();
        return totals;
      } else if (packet.type === 'ERR') {
        throw new BuildkitError('protocol', `error from receiver: ${Buffer.from(packet.data ?? []).toString('utf8')}`);
      } else {
        throw new BuildkitError('protocol', `unexpected ${packet.type} packet from receiver`);
      }
    }
  } catch (err) {
    const error = BuildkitError.from(failure ?? err);
    // Tell the receiver why, when the stream can still carry it.
    await stream.write({ type: 'ERR', data: Buffer.from(error.message) }).catch(() => undefined);
    throw error;
  }
}
