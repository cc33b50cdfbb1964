/**
 * The runtime seam for one Bun-only call: asking for a garbage collection.
 *
 * Why: a large context transfer makes garbage at the pace of the network
 * (grpc-js copies every message into a fresh frame). Node's collector keeps
 * up with it; Bun's (JavaScriptCore) lets external buffers pile up until its
 * heap grows, so the peak RSS of a 1 GiB transfer rose with the amount sent.
 * An asynchronous collection every few tens of MiB keeps it flat for a cost
 * well under a percent of the transfer's time. Under Node this is a no-op.
 */
type BunGc = { gc(force: boolean): void };

const bun = (globalThis as { Bun?: BunGc }).Bun;

/** Schedule a collection when the runtime needs the hint (Bun); never blocks. */
export function collectGarbageSoon(): void {
  bun?.gc(false);
}
