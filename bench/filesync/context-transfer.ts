/**
 * What the daemon itself reported about the build-context transfer, read the
 * same way from both sides: our client's Status stream and buildx's
 * `--progress=rawjson` lines carry the same SolveStatus messages. Using the
 * daemon's figures for both keeps the comparison honest (same counter, same
 * clock) and proves each side really sent the whole context.
 */

/** A SolveStatus as either side delivers it (times as Date objects or RFC 3339 strings). */
export interface StatusLike {
  vertexes?: Array<{ digest: string; name: string }> | null;
  statuses?: Array<{ id: string; vertex: string; current?: number; started?: Date | string; completed?: Date | string }> | null;
}

/** The context transfer as the daemon saw it. */
export interface TransferFigures {
  /** Bytes the daemon counted for the transfer (content plus metadata, fsutil's progress counter). */
  bytes: number;
  /** From the transfer's start to its completion, as the daemon timed it. */
  ms: number;
}

const contextVertexName = '[internal] load build context';

/**
 * Follows Status messages as they come (keeping nothing else, so it does not
 * weigh on the measured process) and remembers the largest completed
 * `transferring context:` progress of the context vertex.
 */
export class ContextTransfer {
  private readonly contextVertices = new Set<string>();
  private readonly progress = new Map<string, { current: number; started?: Date | string; completed?: Date | string }>();

  update(status: StatusLike): void {
    for (const v of status.vertexes ?? []) if (v.name === contextVertexName) this.contextVertices.add(v.digest);
    for (const s of status.statuses ?? []) {
      if (s.id !== 'transferring context:') continue;
      const prev = this.progress.get(s.vertex);
      this.progress.set(s.vertex, { current: Math.max(prev?.current ?? 0, s.current ?? 0), started: s.started ?? prev?.started, completed: s.completed ?? prev?.completed });
    }
  }

  /** The transfer's figures, or undefined when the daemon reported none. */
  figures(): TransferFigures | undefined {
    let best: TransferFigures | undefined;
    for (const [vertex, p] of this.progress) {
      if (!this.contextVertices.has(vertex) || !p.started || !p.completed) continue;
      const figures = { bytes: p.current, ms: new Date(p.completed).getTime() - new Date(p.started).getTime() };
      if (!best || figures.bytes > best.bytes) best = figures;
    }
    return best;
  }
}
