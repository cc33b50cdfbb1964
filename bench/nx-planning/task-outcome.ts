/** Which tasks of one Nx run were run and which replayed from the cache, read from its output. */
export interface TaskOutcome {
  ran: string[];
  cached: string[];
  /** Nx's own count from its closing line ("… for N out of M tasks"), when it printed one. */
  nxCount?: { cached: number; total: number };
}

/**
 * Read `nx run-many -t <target> --output-style=static` output (colour codes
 * stripped): every task's `> nx run <project>:<target>` line, marked
 * `[local cache]` (or `[remote cache]`, or "existing outputs match the
 * cache") when Nx replayed it instead of running it, and Nx's closing count.
 */
export function taskOutcome(output: string, target: string): TaskOutcome {
  const ran = new Set<string>();
  const cached = new Set<string>();
  const escaped = target.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  for (const m of output.matchAll(new RegExp(`^> nx run ([^\\s:]+):${escaped}(?=\\s|$)(.*)$`, 'gm'))) {
    if (/\[(local cache|remote cache|existing outputs match the cache, left as is)\]/.test(m[2]!)) cached.add(m[1]!);
    else ran.add(m[1]!);
  }
  const count = /read the output from the cache instead of running the command for (\d+) out of (\d+) tasks/.exec(output);
  return {
    ran: [...ran].sort(),
    cached: [...cached].sort(),
    ...(count ? { nxCount: { cached: Number(count[1]), total: Number(count[2]) } } : {}),
  };
}
