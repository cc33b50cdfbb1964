import type * as grpc from '@grpc/grpc-js';
import { Duplex } from 'node:stream';

/** Largest payload put into one BytesMessage (daemons ≤ v0.13 reject messages over 4 MiB). */
const maxChunk = 1 << 20;
/**
 * Small writes are gathered up to this size into one BytesMessage. The inner
 * session writes every gRPC message on its own (a few dozen bytes for each
 * listed file), and each BytesMessage costs a message of the outer call,
 * HTTP/2 frames and, to a Docker engine, a pass through the local proxy.
 * Kept at the size of a content chunk: larger messages on the outer stream
 * would meet the flow-control problem session/stream-window-fix.ts describes
 * (the outer connection is the gRPC client's own, where no fix applies).
 */
const gatherBytes = 32 * 1024;

/**
 * Presents a `Control/Session` bidi call (streams of BytesMessage payloads,
 * already unwrapped to Buffers by the call's codec) as a byte Duplex, so the
 * session's inner HTTP/2 server can run on it. Message boundaries carry no
 * meaning; backpressure is honoured in both directions. Writes made in the
 * same event-loop turn are gathered into as few messages as possible.
 */
export class TunnelDuplex extends Duplex {
  private gathered: Buffer[] = [];
  private gatheredBytes = 0;
  private flushQueued = false;
  /** Write callbacks held back while the call wants the writer to pause. */
  private held: Array<() => void> | undefined;

  constructor(private readonly call: grpc.ClientDuplexStream<Buffer, Buffer>) {
    super({ allowHalfOpen: true });
    call.on('data', (chunk: Buffer) => {
      if (!this.push(chunk)) call.pause();
    });
    call.on('end', () => this.push(null));
    call.on('error', (err) => this.destroy(err));
    // Under Bun the inner connection stays open unless the duplex is destroyed
    // when the call ends, so end it here in every case.
    call.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  override _read(): void {
    this.call.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, callback: (err?: Error | null) => void): void {
    if (chunk.length >= gatherBytes) {
      // Already large: send it as is, after what was gathered before it.
      this.flush();
      this.send(chunk);
    } else {
      this.gathered.push(chunk);
      this.gatheredBytes += chunk.length;
      if (this.gatheredBytes >= gatherBytes) this.flush();
      else if (!this.flushQueued) {
        this.flushQueued = true;
        setImmediate(() => {
          this.flushQueued = false;
          this.flush();
        });
      }
    }
    if (this.held) this.held.push(() => callback());
    else callback();
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.flush();
    this.call.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.gathered = [];
    this.call.cancel();
    callback(err);
  }

  private flush(): void {
    if (this.gatheredBytes === 0 || this.destroyed) return;
    const parts = this.gathered;
    const size = this.gatheredBytes;
    this.gathered = [];
    this.gatheredBytes = 0;
    this.send(parts.length === 1 ? parts[0]! : Buffer.concat(parts, size));
  }

  private send(bytes: Buffer): void {
    let ok = true;
    for (let off = 0; off < bytes.length; off += maxChunk) ok = this.call.write(bytes.subarray(off, off + maxChunk));
    if (!ok && !this.held) {
      this.held = [];
      this.call.once('drain', () => {
        const held = this.held ?? [];
        this.held = undefined;
        for (const release of held) release();
      });
    }
  }
}
