/**
 * Events pushed by callbacks, read with `for await`: the bridge from a
 * producer that calls back (the scheduler, the solves' progress) to a
 * consumer that pulls (the executor handing results to Nx as they come).
 * Unbounded: the producer is never held back. `end()` lets the reader
 * finish once it has read everything pushed before; `end(error)` makes the
 * read throw after that.
 */
export class EventQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private waiting?: () => void;
  private ended = false;
  private error: { reason: unknown } | undefined;

  push(item: T): void {
    if (this.ended) return;
    this.items.push(item);
    this.notify();
  }

  end(error?: { reason: unknown }): void {
    if (this.ended) return;
    this.ended = true;
    this.error = error;
    this.notify();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.ended) {
        if (this.error) throw this.error.reason;
        return;
      }
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }

  private notify(): void {
    const waiting = this.waiting;
    this.waiting = undefined;
    waiting?.();
  }
}
