/**
 * Phase timestamps for finding where a run's time goes, written to stderr
 * when `NXBK_DEBUG_TIMING=1`: the wall clock (to line up with other
 * processes, e.g. the `nx` command that started this one) and the time since
 * this process started. Off, a mark costs one comparison. Phases marked
 * `once` are written the first time only (e.g. the run's first solve).
 */
const enabled = typeof process !== 'undefined' && process.env?.NXBK_DEBUG_TIMING === '1';
const marked = new Set<string>();

export function markPhase(phase: string, options: { once?: boolean } = {}): void {
  if (!enabled) return;
  if (options.once) {
    if (marked.has(phase)) return;
    marked.add(phase);
  }
  process.stderr.write(`nxbk-timing ${Date.now()} +${performance.now().toFixed(0)}ms ${phase}\n`);
}
