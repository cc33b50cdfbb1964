import type * as grpc from '@grpc/grpc-js';
import { Duplex } from 'node:stream';

/** Largest payload put into one BytesMessage (daemons ≤ v0.13 reject messages over 4 MiB). */
const maxChunk = 1 << 20;

/**
 * Presents a `Control/Session` bidi call (streams of BytesMessage payloads,
 * already unwrapped to Buffers by the call's codec) as a byte Duplex, so the
 * session's inner HTTP/2 server can run on it. Message boundaries carry no
 * meaning; backpressure is honoured in both directions.
 */
export class TunnelDuplex extends Duplex {
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
    let ok = true;
    for (let off = 0; off < chunk.length; off += maxChunk) {
      ok = this.call.write(chunk.subarray(off, off + maxChunk));
    }
    if (ok) callback();
    else this.call.once('drain', () => callback());
  }

  override _final(callback: (err?: Error | null) => void): void {
    this.call.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (err?: Error | null) => void): void {
    this.call.cancel();
    callback(err);
  }
}
