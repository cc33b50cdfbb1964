import { Duplex } from 'node:stream';

/** HTTP/2 wire facts (RFC 9113). */
const frameHeaderBytes = 9;
const FrameType = { DATA: 0x0, HEADERS: 0x1, RST_STREAM: 0x3, SETTINGS: 0x4, WINDOW_UPDATE: 0x8, CONTINUATION: 0x9 } as const;
const Flag = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
const defaultInitialWindow = 65_535;
const clientPrefaceBytes = 24;

/**
 * Keeps the local HTTP/2 endpoint's per-stream send windows equal to what
 * the peer granted when the peer raises SETTINGS_INITIAL_WINDOW_SIZE on a
 * live connection, by turning the raise into WINDOW_UPDATE frames.
 *
 * Why: RFC 9113 §6.9.2 says a changed initial window applies its difference
 * to every open stream. Bun's node:http2 (1.4) instead sets an open stream's
 * total credit to the new value only when that is larger, so a stream that
 * already received WINDOW_UPDATEs keeps its old credit. The daemon's gRPC
 * client raises its window exactly that way while transfers run (grpc-go's
 * bandwidth-delay estimator) and then sends a stream WINDOW_UPDATE only after
 * a quarter of the new window was consumed; once that quarter exceeds the
 * 64 KiB Bun can have in flight, the stream stalls for good. One DiffCopy
 * with 32 KiB messages never gets there, but messages larger than the window
 * or several transfers at once on one session (a shared session) do.
 *
 * How: the first value the peer sets before any stream exists is passed on
 * (it applies to new streams only). After that, a raise is removed from the
 * SETTINGS frame (the local side keeps the earlier value) and given as one
 * WINDOW_UPDATE of the difference per open stream, right after the frame;
 * each stream the peer opens later gets one for the accumulated difference
 * right after its header block. Window updates are handled correctly by
 * every implementation, so credit is exact whatever runtime runs the
 * session. A decrease (gRPC peers never lower it) cannot be expressed as
 * window updates: from then on frames pass unchanged.
 *
 * Wraps a server-side connection (the peer sends the client preface), as a
 * session's connection is.
 */
export function fixStreamWindows(connection: Duplex): Duplex {
  /** Streams we may still send on. */
  const open = new Set<number>();
  /** The peer's stream ids only grow (RFC 9113 §5.1.1): a larger one opens a stream. */
  let highestStream = 0;
  let opening = 0;
  /** The initial window the local endpoint works with, and the one the peer set. */
  let localInitial = defaultInitialWindow;
  let peerInitial = defaultInitialWindow;
  let passThrough = false;

  const onInbound: FrameHandler = (frame, type, flags, streamId) => {
    if (type === FrameType.RST_STREAM) {
      open.delete(streamId);
      return undefined;
    }
    if (type === FrameType.HEADERS || type === FrameType.CONTINUATION) {
      if (type === FrameType.HEADERS && streamId > highestStream) {
        highestStream = streamId;
        open.add(streamId);
        opening = streamId;
      }
      // A new stream's missing credit follows its header block (nothing may come between a block's frames).
      if (!(flags & Flag.END_HEADERS) || opening !== streamId) return undefined;
      opening = 0;
      const lag = peerInitial - localInitial;
      return lag > 0 && !passThrough ? windowUpdates([streamId], lag) : undefined;
    }
    if (type !== FrameType.SETTINGS || flags & Flag.ACK || passThrough) return undefined;
    let raisedBy = 0;
    for (let i = frameHeaderBytes; i + 6 <= frame.length; i += 6) {
      if (frame.readUInt16BE(i) !== SETTINGS_INITIAL_WINDOW_SIZE) continue;
      const value = frame.readUInt32BE(i + 2);
      if (highestStream === 0) {
        localInitial = peerInitial = value;
      } else if (value >= peerInitial) {
        raisedBy += value - peerInitial;
        peerInitial = value;
        frame.writeUInt32BE(localInitial, i + 2);
      } else {
        // Lowering: let the local endpoint see it (and everything after) as sent.
        passThrough = true;
        return undefined;
      }
    }
    return raisedBy > 0 && open.size > 0 ? windowUpdates(open, raisedBy) : undefined;
  };

  // Our END_STREAM or RST_STREAM ends our sending side: the stream needs no more credit.
  const onOutbound = (type: number, flags: number, streamId: number) => {
    if (type === FrameType.RST_STREAM || ((type === FrameType.DATA || type === FrameType.HEADERS) && flags & Flag.END_STREAM)) open.delete(streamId);
  };

  const inbound = new FrameRewriter(clientPrefaceBytes, onInbound);
  const outbound = new FrameWatcher(onOutbound);

  const wrapper = new Duplex({
    allowHalfOpen: true,
    read() {
      connection.resume();
    },
    write(chunk: Buffer, _enc, callback) {
      outbound.scan(chunk);
      // Accepted once the connection took it: waiting for its own callback too would keep every chunk alive twice as long.
      if (connection.write(chunk)) callback();
      else connection.once('drain', () => callback());
    },
    final(callback) {
      connection.end();
      callback();
    },
    destroy(err, callback) {
      connection.destroy();
      callback(err);
    },
  });
  connection.on('data', (chunk: Buffer) => {
    const out = inbound.transform(chunk);
    if (out.length > 0 && !wrapper.push(out)) connection.pause();
  });
  connection.on('end', () => wrapper.push(null));
  connection.on('error', (err) => wrapper.destroy(err));
  connection.on('close', () => {
    if (!wrapper.destroyed) wrapper.destroy();
  });
  return wrapper;
}

/** One WINDOW_UPDATE frame of `increment` for each stream. */
function windowUpdates(streams: Iterable<number>, increment: number): Buffer {
  const frames: Buffer[] = [];
  for (const id of streams) {
    const f = Buffer.alloc(frameHeaderBytes + 4);
    f.writeUIntBE(4, 0, 3);
    f[3] = FrameType.WINDOW_UPDATE;
    f.writeUInt32BE(id, 5);
    f.writeUInt32BE(increment, 9);
    frames.push(f);
  }
  return Buffer.concat(frames);
}

/**
 * Sees each complete frame header. For a SETTINGS frame, `frame` is the
 * whole frame (header and payload, a private copy the handler may rewrite);
 * for other types only the 9 header bytes. What it returns is inserted into
 * the byte stream right after the frame.
 */
type FrameHandler = (frame: Buffer, type: number, flags: number, streamId: number) => Buffer | undefined;

/**
 * Follows one direction of an HTTP/2 connection across arbitrary chunk
 * boundaries and hands each frame to a handler that may rewrite SETTINGS
 * frames and insert bytes after any frame. Payloads of other frames pass
 * through as slices of the incoming chunks; only SETTINGS frames (a few
 * bytes) and frame headers split across chunks are held back until whole.
 */
class FrameRewriter {
  private readonly header = Buffer.alloc(frameHeaderBytes);
  private headerFill = 0;
  /** Payload bytes of the current frame still to come. */
  private remaining = 0;
  /** The SETTINGS frame being collected. */
  private held: Buffer[] | undefined;
  private prefaceLeft: number;

  constructor(
    prefaceBytes: number,
    private readonly onFrame: FrameHandler,
  ) {
    this.prefaceLeft = prefaceBytes;
  }

  transform(chunk: Buffer): Buffer {
    const out: Buffer[] = [];
    let changed = false;
    let runStart = 0;
    let pos = Math.min(this.prefaceLeft, chunk.length);
    this.prefaceLeft -= pos;
    const flushRun = (end: number) => {
      if (end > runStart) out.push(chunk.subarray(runStart, end));
      runStart = end;
    };
    while (pos < chunk.length) {
      if (this.remaining === 0 && this.held === undefined) {
        // At a frame header.
        const startedHere = this.headerFill === 0;
        const n = Math.min(frameHeaderBytes - this.headerFill, chunk.length - pos);
        if (startedHere) flushRun(pos);
        chunk.copy(this.header, this.headerFill, pos, pos + n);
        this.headerFill += n;
        pos += n;
        runStart = pos;
        if (this.headerFill < frameHeaderBytes) {
          // Held back until the rest of the header arrives.
          changed = true;
          break;
        }
        this.headerFill = 0;
        this.remaining = this.header.readUIntBE(0, 3);
        if (this.header[3] === FrameType.SETTINGS) {
          this.held = [Buffer.from(this.header)];
          changed = true;
        } else if (startedHere && n === frameHeaderBytes) {
          // Whole header in this chunk: it stays part of the pass-through run.
          runStart = pos - frameHeaderBytes;
        } else {
          out.push(Buffer.from(this.header));
          changed = true;
        }
      }
      const n = Math.min(this.remaining, chunk.length - pos);
      if (this.held) {
        this.held.push(chunk.subarray(pos, pos + n));
        runStart = pos + n;
        changed = true;
      }
      this.remaining -= n;
      pos += n;
      if (this.remaining > 0) break;
      // The frame is complete.
      const frame = this.held ? Buffer.concat(this.held) : this.header;
      this.held = undefined;
      const insert = this.onFrame(frame, frame[3]!, frame[4]!, frame.readUInt32BE(5) & 0x7fffffff);
      if (frame !== this.header) out.push(frame);
      else flushRun(pos);
      if (insert) {
        flushRun(pos);
        out.push(insert);
        changed = true;
      }
    }
    if (this.held === undefined) flushRun(pos);
    return changed ? Buffer.concat(out) : chunk;
  }
}

/** Reports each frame header of one direction of a connection, without touching the bytes. */
class FrameWatcher {
  private readonly header = Buffer.alloc(frameHeaderBytes);
  private headerFill = 0;
  private remaining = 0;

  constructor(private readonly onFrame: (type: number, flags: number, streamId: number) => void) {}

  scan(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length) {
      if (this.remaining > 0) {
        const n = Math.min(this.remaining, chunk.length - pos);
        this.remaining -= n;
        pos += n;
        continue;
      }
      const n = Math.min(frameHeaderBytes - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      if (this.headerFill < frameHeaderBytes) return;
      this.headerFill = 0;
      this.remaining = this.header.readUIntBE(0, 3);
      this.onFrame(this.header[3]!, this.header[4]!, this.header.readUInt32BE(5) & 0x7fffffff);
    }
  }
}
