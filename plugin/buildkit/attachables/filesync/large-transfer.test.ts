/**
 * Multi-MiB transfers through a real Session, in process, with the daemon
 * played by a raw HTTP/2 peer that does flow control the way the daemon's
 * gRPC client (grpc-go) does: 64 KiB windows, a WINDOW_UPDATE once a quarter
 * of a window was consumed, and — while transfers run — a raise of the
 * initial window by SETTINGS (its bandwidth-delay estimator), late enough
 * that the streams already got more credit by WINDOW_UPDATE than the new
 * window's size. Under Bun that raise used to stall a transfer for good (see
 * session/stream-window-fix.ts); whatever runtime runs the tests, every byte
 * must arrive intact and in time.
 */
import { afterAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { Session } from '../../session/session';
import { duplexPair } from '../../testing/duplex-pair';
import { H2, H2_PREFACE, h2Frame as frame, h2HeaderBlock as headerBlock, h2Settings, h2WindowUpdate } from '../../testing/http2-frames';
import { packetMessage } from '../../testing/packet-message';
import { FileSyncProvider } from './file-sync-provider';
import { isRegularFile } from './go-file-mode';
import { decodePacket, type Packet } from './wire';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-large-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

interface Transfer {
  files: Map<string, ReturnType<typeof createHash>>;
  bytes: number;
  done: Promise<void>;
}

/**
 * The daemon's side: HTTP/2 client with grpc-go's flow control, one DiffCopy
 * per directory name, every regular file requested as soon as it is listed.
 */
class DaemonPeer {
  private inbox = Buffer.alloc(0);
  private connPending = 0;
  private connLimit = 65_535;
  private streamLimit = 65_535;
  private received = 0;
  private raised = false;
  private nextStream = 1;
  private readonly streams = new Map<number, { pending: number; buf: Buffer; onMessage: (p: Packet) => void; onEnd: () => void }>();

  constructor(
    private readonly conn: Duplex,
    /** Raise the initial window to `to` once `after` bytes arrived, as grpc-go's estimator does. */
    private readonly raise: { after: number; to: number },
  ) {
    conn.write(Buffer.concat([H2_PREFACE, frame(H2.SETTINGS, 0, 0)]));
    conn.on('data', (c: Buffer) => this.read(c));
  }

  diffCopy(dirName: string): Transfer {
    const id = this.nextStream;
    this.nextStream += 2;
    const files = new Map<string, ReturnType<typeof createHash>>();
    const paths = new Map<number, string>();
    let entry = 0;
    let listed = false;
    let open = 0;
    const transfer: Transfer = { files, bytes: 0, done: Promise.resolve() };
    const send = (p: Packet) => this.conn.write(frame(H2.DATA, 0, id, packetMessage(p)));
    transfer.done = new Promise<void>((resolve, reject) => {
      const maybeFin = () => listed && open === 0 && send({ type: 'FIN' });
      this.streams.set(id, {
        pending: 0,
        buf: Buffer.alloc(0),
        onMessage: (p) => {
          if (p.type === 'STAT' && p.stat) {
            if (isRegularFile(p.stat.mode) && !p.stat.linkname) {
              paths.set(entry, p.stat.path);
              files.set(p.stat.path, createHash('sha256'));
              open++;
              send({ type: 'REQ', id: entry });
            }
            entry++;
          } else if (p.type === 'STAT') {
            listed = true;
            maybeFin();
          } else if (p.type === 'DATA') {
            const file = paths.get(p.id ?? 0)!;
            if (p.data?.length) {
              files.get(file)!.update(p.data);
              transfer.bytes += p.data.length;
            } else {
              open--;
              maybeFin();
            }
          } else if (p.type === 'FIN') {
            this.conn.write(frame(H2.DATA, 0x1, id));
            resolve();
          } else reject(new Error(`unexpected ${p.type}: ${Buffer.from(p.data ?? []).toString()}`));
        },
        onEnd: () => reject(new Error('stream ended before FIN')),
      });
    });
    const headers = headerBlock([
      [':method', 'POST'], [':scheme', 'http'], [':path', '/moby.filesync.v1.FileSync/DiffCopy'], [':authority', 'localhost'],
      ['content-type', 'application/grpc'], ['te', 'trailers'], ['dir-name', dirName],
    ]);
    this.conn.write(frame(H2.HEADERS, 0x4, id, headers));
    return transfer;
  }

  private read(chunk: Buffer): void {
    this.inbox = Buffer.concat([this.inbox, chunk]);
    while (this.inbox.length >= 9) {
      const len = this.inbox.readUIntBE(0, 3);
      if (this.inbox.length < 9 + len) return;
      const [type, flags, id] = [this.inbox[3]!, this.inbox[4]!, this.inbox.readUInt32BE(5) & 0x7fffffff];
      const payload = this.inbox.subarray(9, 9 + len);
      this.inbox = this.inbox.subarray(9 + len);
      if (type === H2.SETTINGS && !(flags & 1)) this.conn.write(frame(H2.SETTINGS, 1, 0));
      else if (type === H2.PING && !(flags & 1)) this.conn.write(frame(H2.PING, 1, 0, payload));
      else if (type === H2.DATA) this.onData(id, payload, flags);
      else if ((type === H2.HEADERS && flags & 1) || type === H2.RST_STREAM) this.streams.get(id)?.onEnd();
    }
  }

  private onData(id: number, payload: Buffer, flags: number): void {
    const s = this.streams.get(id);
    this.received += payload.length;
    // Connection-level credit comes back as data arrives, stream-level as it is read; both at a quarter of the limit.
    this.connPending += payload.length;
    if (this.connPending >= this.connLimit / 4) {
      this.conn.write(h2WindowUpdate(0, this.connPending));
      this.connPending = 0;
    }
    if (!s) return;
    s.buf = Buffer.concat([s.buf, payload]);
    s.pending += payload.length;
    if (s.pending >= this.streamLimit / 4) {
      this.conn.write(h2WindowUpdate(id, s.pending));
      s.pending = 0;
    }
    while (s.buf.length >= 5 && s.buf.length >= 5 + s.buf.readUInt32BE(1)) {
      const n = s.buf.readUInt32BE(1);
      s.onMessage(decodePacket(Buffer.from(s.buf.subarray(5, 5 + n))));
      s.buf = s.buf.subarray(5 + n);
    }
    if (!this.raised && this.received >= this.raise.after) {
      // grpc-go: one connection WINDOW_UPDATE for the difference, then SETTINGS with the new initial window.
      this.raised = true;
      this.conn.write(h2WindowUpdate(0, this.raise.to - this.connLimit));
      this.conn.write(h2Settings([4 /* SETTINGS_INITIAL_WINDOW_SIZE */, this.raise.to]));
      this.connLimit = this.streamLimit = this.raise.to;
    }
    if (flags & 1) s.onEnd();
  }
}

/** A directory with one random file of `size` bytes and a few small ones; returns it and the big file's digest. */
function tree(name: string, size: number): { dir: string; digest: string } {
  const dir = path.join(base, name);
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  const content = randomBytes(size);
  fs.writeFileSync(path.join(dir, 'big.bin'), content);
  for (let i = 0; i < 20; i++) fs.writeFileSync(path.join(dir, 'sub', `small-${i}.txt`), `file ${i}\n`);
  return { dir, digest: createHash('sha256').update(content).digest('hex') };
}

async function withDaemon(dirs: Record<string, string>, raise: { after: number; to: number }, run: (peer: DaemonPeer) => Promise<void>) {
  const [ours, theirs] = duplexPair();
  const session = new Session({ attachables: [new FileSyncProvider(Object.fromEntries(Object.entries(dirs).map(([k, dir]) => [k, { dir }])))] });
  await session.open(async () => ours);
  try {
    await run(new DaemonPeer(theirs, raise));
  } finally {
    await session.close();
  }
}

function inTime<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: stalled (no end after ${ms} ms)`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

describe('large transfers under the daemon\'s flow control', () => {
  test('a multi-MiB random file arrives intact when the daemon raises its window mid-transfer', async () => {
    const a = tree('one', 8 * 1024 * 1024 + 12_345);
    await withDaemon({ context: a.dir }, { after: 2 * 1024 * 1024, to: 1024 * 1024 }, async (peer) => {
      const t = peer.diffCopy('context');
      await inTime(t.done, 20_000, 'transfer');
      expect(t.files.get('big.bin')!.digest('hex')).toBe(a.digest);
      expect(t.files.size).toBe(21);
    });
  }, 30_000);

  test('two transfers at once on one session (a shared session) both complete across the raise', async () => {
    const a = tree('two-a', 6 * 1024 * 1024);
    const b = tree('two-b', 5 * 1024 * 1024 + 1);
    await withDaemon({ a: a.dir, b: b.dir }, { after: 3 * 1024 * 1024, to: 1024 * 1024 }, async (peer) => {
      const ta = peer.diffCopy('a');
      const tb = peer.diffCopy('b');
      await inTime(Promise.all([ta.done, tb.done]), 20_000, 'transfers');
      expect(ta.files.get('big.bin')!.digest('hex')).toBe(a.digest);
      expect(tb.files.get('big.bin')!.digest('hex')).toBe(b.digest);
    });
  }, 30_000);
});
