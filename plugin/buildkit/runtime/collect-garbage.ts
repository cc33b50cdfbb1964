/**
 * The runtime seam for one Bun-only call: a garbage collection on request.
 *
 * Why: a large context transfer makes garbage at the pace of the network
 * (grpc-js copies every message into a fresh frame). Node's collector keeps
 * up with it; Bun's (JavaScriptCore) lets those buffers pile up, so the peak
 * RSS of a 1 GiB transfer reached 154–179 MB. Measured with
 * bench/filesync (1 GiB, 50,000 files): an asynchronous collection every
 * 16–64 MiB still peaked at 160 MB now and then; a synchronous one every
 * 32 MiB keeps it at 121–126 MB with no loss of speed (the heap is small, so
 * each collection takes milliseconds). Under Node this is a no-op.
 */
type BunGc = { gc(force: boolean): void };

const bun = (globalThis as { Bun?: BunGc }).Bun;

/** Collect garbage now when the runtime needs the help (Bun); a no-op elsewhere. */
export function collectGarbage(): void {
  bun?.gc(true);
}
