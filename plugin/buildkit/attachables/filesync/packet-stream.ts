import type * as grpc from '@grpc/grpc-js';
import { BuildkitError } from '../../errors';
import { decodePacket, encodePacket, type Packet } from './wire';

/**
 * A DiffCopy call seen as fsutil packets: awaitable writes that honour
 * backpressure, and an async iterator of incoming packets. Works for both
 * sides (FileSync sender, FileSend receiver), whose calls carry raw bytes.
 */
export class PacketStream {
  private readonly queue: Packet[] = [];
  private waiter: (() => void) | undefined;
  private ended = false;
  private failure: Error | undefined;

  constructor(private readonly call: grpc.ServerDuplexStream<Buffer, Buffer>) {
    call.on('data', (bytes: Buffer) => {
      try {
        this.queue.push(decodePacket(bytes));
      } catch (err) {
        this.failure = BuildkitError.from(err, 'malformed fsutil packet');
      }
      this.wake();
    });
    call.on('end', () => {
      this.ended = true;
      this.wake();
    });
    call.on('error', (err) => {
      this.failure ??= err;
      this.wake();
    });
    call.on('cancelled', () => {
      this.failure ??= new BuildkitError('cancelled', 'the daemon cancelled the transfer');
      this.wake();
    });
  }

  /** Send one packet; resolves when the transport can take more. */
  async write(packet: Packet): Promise<void> {
    if (this.failure) throw this.failure;
    if (!this.call.write(encodePacket(packet))) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.call.off('drain', done);
          this.call.off('close', done);
          resolve();
        };
        this.call.once('drain', done);
        this.call.once('close', done);
      });
    }
  }

  /** The next incoming packet, or undefined when the peer ended the stream. */
  async next(): Promise<Packet | undefined> {
    for (;;) {
      const packet = this.queue.shift();
      if (packet) return packet;
      if (this.failure) throw this.failure;
      if (this.ended) return undefined;
      await new Promise<void>((resolve) => (this.waiter = resolve));
    }
  }

  /** Make pending and later next() calls fail with `err` (a local failure ends the exchange). */
  fail(err: unknown): void {
    this.failure ??= BuildkitError.from(err);
    this.wake();
  }

  /** Finish our side of the call successfully. */
  end(): void {
    this.call.end();
  }

  private wake(): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.();
  }
}
