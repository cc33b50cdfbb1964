/**
 * The figures bench/run-many reads from each side's own progress output:
 * our executor's `json` progress (one event per line, the daemon's step
 * times) and buildx's `--progress=rawjson` (the daemon's SolveStatus
 * messages). Both carry the daemon's own `started`/`completed` times, so the
 * sides are timed by the same clock.
 */

/** One run of one side. */
export interface RunFigures {
  wallMs: number;
  rssMb?: number;
  /** From the process's start to the first step the daemon started. */
  firstStepMs: number;
  /**
   * From the first context load's start to the first step that reads the
   * context (`COPY . …`) starting, by the daemon's clock; summed over the
   * builds of a side that runs several. Not the load step's own duration:
   * with a shared session (`local-sessionid`) the frontend's load step ends
   * at once and the transfer happens before the reading step can start.
   */
  transferMs: number;
  /** Daemon-counted bytes of those transfers (rawjson only: our json progress has no byte counts). */
  transferBytes: number;
  /** How many context loads the daemon ran (1 when the context is sent once). */
  transfers: number;
}

/** Step names that load a local directory: the frontend's context load, or a `local://` source. */
const contextLoad = /load build context|^\[internal\] load local|^local:\/\//;
/** The step that reads the context in the benchmark's Dockerfiles. */
const contextRead = /COPY \. \/src\//;

interface Step {
  name: string;
  started?: string;
  completed?: string;
}

/** Read the first step's start and the context loads from one process's output. */
export function firstStepAndTransfer(output: string, processStartMs: number, format: 'ours' | 'rawjson'): Omit<RunFigures, 'wallMs' | 'rssMb'> {
  const steps = new Map<string, Step>();
  const bytes = new Map<string, number>();
  const note = (digest: string, s: Step) => {
    const prev = steps.get(digest);
    steps.set(digest, { name: s.name || prev?.name || '', started: prev?.started ?? s.started, completed: s.completed ?? prev?.completed });
  };
  for (const line of output.split('\n')) {
    const at = line.indexOf('{');
    if (at < 0) continue;
    let event: Record<string, unknown>;
    try {
      event = JSON.parse(line.slice(at)) as Record<string, unknown>;
    } catch {
      continue; // not a progress line (Nx's own output, a partial line)
    }
    if (format === 'ours') {
      if (event.type === 'vertex' && typeof event.vertex === 'string') note(event.vertex, event as unknown as Step);
      continue;
    }
    for (const v of (event.vertexes as Array<Step & { digest: string }> | undefined) ?? []) note(v.digest, v);
    for (const s of (event.statuses as Array<{ id: string; vertex: string; current?: number }> | undefined) ?? []) {
      if (s.id === 'transferring context:') bytes.set(s.vertex, Math.max(bytes.get(s.vertex) ?? 0, s.current ?? 0));
    }
  }
  const starts = [...steps.values()].flatMap((s) => (s.started ? [new Date(s.started).getTime()] : []));
  if (starts.length === 0) throw new Error(`no step started in the output (${format}):\n${output.slice(-2000)}`);
  const loads = [...steps.entries()].filter(([, s]) => contextLoad.test(s.name) && s.started);
  const reads = [...steps.values()].filter((s) => contextRead.test(s.name) && s.started);
  if (loads.length === 0 || reads.length === 0) throw new Error(`no context load or no COPY step in the output (${format}):
${output.slice(-2000)}`);
  const earliest = (xs: Step[]) => Math.min(...xs.map((s) => new Date(s.started!).getTime()));
  return {
    firstStepMs: Math.min(...starts) - processStartMs,
    transferMs: earliest(reads) - earliest(loads.map(([, s]) => s)),
    transferBytes: loads.reduce((a, [digest]) => a + (bytes.get(digest) ?? 0), 0),
    transfers: loads.length,
  };
}

export const medianOf = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

/** A table of medians per side, with each side's wall-time ratio to `reference`. */
export function summarize<S extends string>(results: Map<S, RunFigures[]>, reference: S): string {
  const med = (side: S, f: (r: RunFigures) => number) => medianOf(results.get(side)!.map(f));
  // A side that runs no build (the Nx floor) has no step or transfer figures.
  const secs = (ms: number) => (Number.isNaN(ms) ? 'n/a' : `${(ms / 1000).toFixed(2)} s`);
  const rows = ['| side | wall | first step | context load steps | transfer | daemon-counted bytes | peak RSS | wall / ' + reference + ' |', '|---|--:|--:|--:|--:|--:|--:|--:|'];
  for (const side of results.keys()) {
    const all = results.get(side)!;
    const ratio = results.has(reference) ? (med(side, (r) => r.wallMs) / med(reference, (r) => r.wallMs)).toFixed(2) : 'n/a';
    const b = med(side, (r) => r.transferBytes);
    const rss = all.every((r) => r.rssMb !== undefined) ? `${Math.max(...all.map((r) => r.rssMb!)).toFixed(0)} MB` : 'n/a';
    rows.push(
      `| ${side} | ${secs(med(side, (r) => r.wallMs))} | ${secs(med(side, (r) => r.firstStepMs))} | ${Number.isNaN(med(side, (r) => r.transfers)) ? 'n/a' : med(side, (r) => r.transfers)} | ${secs(med(side, (r) => r.transferMs))} | ${b ? `${(b / 1024 ** 2).toFixed(1)} MiB` : 'n/a'} | ${rss} | **${ratio}** |`,
    );
  }
  return rows.join('\n');
}
