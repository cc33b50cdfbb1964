import { constants as fsConstants } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { isDirectory, isRegularFile, isSymlink, posixPermissions } from '../filesync/go-file-mode';
import type { PacketStream } from '../filesync/packet-stream';
import type { WireStat } from '../filesync/wire';

/** What one received tree held. */
export interface ReceiveTotals {
  entries: number;
  files: number;
  bytes: number;
}

interface OpenFile {
  relPath: string;
  stat: WireStat;
  handle?: fs.FileHandle;
}

/**
 * The fsutil receiver side of DiffCopy, used for the `local` exporter: create
 * directories and links from STAT packets, request every regular file, write
 * DATA chunks, apply modes and times, then run the FIN handshake. Every path
 * is checked to stay inside `root`, and an entry's parent must be a directory
 * received earlier in the same stream, so a symlink can never redirect a
 * later write outside `root`.
 */
export async function receiveTree(stream: PacketStream, root: string, onComplete?: (totals: ReceiveTotals) => void): Promise<ReceiveTotals> {
  await fs.mkdir(root, { recursive: true });
  const totals: ReceiveTotals = { entries: 0, files: 0, bytes: 0 };
  const dirs = new Set<string>(['']);
  const dirTimes: Array<[string, bigint]> = [];
  const hardLinks: Array<[string, string]> = [];
  const wanted = new Map<number, OpenFile>();
  let id = 0;
  let listingDone = false;
  let finSent = false;

  const finishIfDone = async () => {
    if (listingDone && wanted.size === 0 && !finSent) {
      for (const [target, link] of hardLinks) await fs.link(path.join(root, target), path.join(root, link));
      // Directory times last: creating children changes them.
      for (const [rel, ns] of dirTimes.reverse()) await setTime(path.join(root, rel), ns);
      finSent = true;
      // Report before our FIN: the daemon may end the solve as soon as the
      // handshake completes, and the caller's view must already be complete.
      onComplete?.(totals);
      await stream.write({ type: 'FIN' });
    }
  };

  for (;;) {
    const packet = await stream.next();
    if (!packet) {
      if (finSent) return totals;
      throw new BuildkitError('protocol', 'sender ended the transfer before FIN');
    }
    switch (packet.type) {
      case 'STAT': {
        if (!packet.stat) {
          listingDone = true;
          await finishIfDone();
          break;
        }
        const stat = packet.stat;
        const rel = checkedPath(stat.path, dirs);
        const abs = path.join(root, rel);
        totals.entries++;
        if (isDirectory(stat.mode)) {
          // Something already on disk at this path (from an earlier export) must
          // not be a link that would redirect the children: replace non-directories.
          const existing = await fs.lstat(abs).catch(() => undefined);
          if (existing && !existing.isDirectory()) await fs.rm(abs, { force: true, recursive: true });
          await fs.mkdir(abs, { recursive: true });
          await fs.chmod(abs, posixPermissions(stat.mode));
          dirs.add(rel);
          dirTimes.push([rel, stat.modTimeNs]);
        } else if (isSymlink(stat.mode)) {
          await fs.rm(abs, { force: true });
          await fs.symlink(stat.linkname, abs);
        } else if (isRegularFile(stat.mode) && stat.linkname) {
          hardLinks.push([checkedPath(stat.linkname, dirs), rel]);
        } else if (isRegularFile(stat.mode)) {
          wanted.set(id, { relPath: rel, stat });
          await stream.write({ type: 'REQ', id });
        }
        // Devices, pipes and sockets are not recreated: an unprivileged client cannot make them.
        id++;
        break;
      }
      case 'DATA': {
        const file = wanted.get(packet.id ?? 0);
        if (!file) throw new BuildkitError('protocol', `data for a file that was not requested (id ${packet.id ?? 0})`);
        const abs = path.join(root, file.relPath);
        file.handle ??= await openForWrite(abs);
        const data = packet.data;
        if (data && data.length > 0) {
          await file.handle.write(data);
          totals.bytes += data.length;
          break;
        }
        await file.handle.chmod(posixPermissions(file.stat.mode));
        await file.handle.close();
        await setTime(abs, file.stat.modTimeNs);
        wanted.delete(packet.id ?? 0);
        totals.files++;
        await finishIfDone();
        break;
      }
      case 'FIN':
        if (!finSent) throw new BuildkitError('protocol', 'sender sent FIN before the transfer was complete');
        // The daemon returns right after its FIN and cancels the call later: done.
        return totals;
      case 'ERR':
        throw new BuildkitError('protocol', `error from sender: ${Buffer.from(packet.data ?? []).toString('utf8')}`);
      default:
        throw new BuildkitError('protocol', `unexpected ${packet.type} packet from sender`);
    }
  }
}

/** Validate a received path: relative, clean, inside the root, parent already received as a directory. */
function checkedPath(p: string, dirs: ReadonlySet<string>): string {
  const clean = path.posix.normalize(p);
  if (p === '' || path.posix.isAbsolute(p) || clean !== p || clean === '..' || clean.startsWith('../') || clean === '.') {
    throw new BuildkitError('protocol', `refusing unsafe path ${JSON.stringify(p)} from the daemon`);
  }
  const parent = path.posix.dirname(clean);
  if (!dirs.has(parent === '.' ? '' : parent)) {
    throw new BuildkitError('protocol', `refusing ${JSON.stringify(p)}: its parent is not a directory received before it`);
  }
  return clean;
}

/** Create or truncate a file without following a link already at that path. */
async function openForWrite(abs: string): Promise<fs.FileHandle> {
  const { O_WRONLY, O_CREAT, O_TRUNC, O_NOFOLLOW } = fsConstants;
  try {
    return await fs.open(abs, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ELOOP') throw err;
    await fs.rm(abs, { force: true });
    return fs.open(abs, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW, 0o600);
  }
}

async function setTime(abs: string, ns: bigint): Promise<void> {
  // Millisecond precision is what utimes offers portably; seconds as a float keep it.
  const seconds = Number(ns / 1_000_000n) / 1000;
  await fs.lutimes(abs, seconds, seconds);
}
