import type * as grpc from '@grpc/grpc-js';
import { BuildkitError } from '../../errors';
import { decodePacket, encodePacket, type Packet } from './wire';

/**
 * Packets handed to the call whose writes have not completed yet, before
 * writers wait. Enough to keep the stream busy; few, because every packet in
 * flight is a buffer (and the gRPC layer's copy of it) the garbage collector
 * cannot free yet, and peak memory follows that number.
 */
const maxInFlight = 4;

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
  private inFlight = 0;
  /** Writers waiting in drained() (the listing and the content may both wait). */
  private drainWaiters: Array<() => void> = [];

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
    // Writes still in flight never complete once the call is gone.
    call.on('close', () => this.wakeWriter());
  }

  /** Send one packet; resolves when the transport can take more. */
  async write(packet: Packet): Promise<void> {
    return this.writeEncoded(encodePacket(packet));
  }

  /**
   * Send one already encoded packet (e.g. from `finishDataPacket`); resolves
   * when the transport can take more. `onWritten` runs once the transport no
   * longer needs `bytes` (so its buffer can be reused); never if the call
   * ends first.
   */
  async writeEncoded(bytes: Buffer, onWritten?: () => void): Promise<void> {
    if (!this.queueEncoded(bytes, onWritten)) await this.drained();
  }

  /**
   * Queue one encoded packet without waiting; false once the writer should
   * wait for {@link drained}. For bursts whose order matters more than their
   * pacing (a run of listing entries).
   */
  queueEncoded(bytes: Buffer, onWritten?: () => void): boolean {
    if (this.failure) throw this.failure;
    this.inFlight++;
    this.call.write(bytes, (err: unknown) => {
      this.inFlight--;
      if (!err) onWritten?.();
      if (this.inFlight < maxInFlight) this.wakeWriter();
    });
    return this.inFlight < maxInFlight;
  }

  /** Resolves once few enough packets are in flight (or the call ended). */
  async drained(): Promise<void> {
    while (this.inFlight >= maxInFlight && !this.call.closed) {
      if (this.failure) throw this.failure;
      await new Promise<void>((resolve) => this.drainWaiters.push(resolve));
    }
    if (this.failure) throw this.failure;
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

  /** Make pending and later next() and drained() calls fail with `err` (a local failure ends the exchange). */
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
    this.wakeWriter();
  }

  private wakeWriter(): void {
    if (this.drainWaiters.length === 0) return;
    const waiters = this.drainWaiters;
    this.drainWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
