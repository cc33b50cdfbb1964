import type { SolveStatus, VertexUpdate, VertexWarning } from '../control/types';

/**
 * Merges the incremental Status stream of a solve into the current state of
 * every vertex (the same digest arrives many times; the last value of each
 * field wins, as BuildKit's own progress display does, except `cached`,
 * which stays true once reported).
 */
export class ProgressTracker {
  private readonly byDigest = new Map<string, VertexUpdate>();
  private readonly logChunks: Array<{ vertex: string; data: Uint8Array }> = [];
  private readonly warningList: VertexWarning[] = [];

  /** Feed one Status message; pass as `onStatus`. */
  readonly update = (status: SolveStatus): void => {
    for (const v of status.vertexes) {
      const prev = this.byDigest.get(v.digest);
      const merged = prev ? { ...prev, ...definedFields(v) } : v;
      // Once a step is reported cached it stays cached: a result loaded from an
      // imported cache is pulled lazily afterwards, and that pull re-reports the
      // step's digest with cached=false although nothing ran.
      if (prev?.cached) merged.cached = true;
      this.byDigest.set(v.digest, merged);
    }
    for (const log of status.logs) this.logChunks.push({ vertex: log.vertex, data: log.data });
    this.warningList.push(...status.warnings);
  };

  /** Every vertex seen, in first-seen order. */
  get vertexes(): VertexUpdate[] {
    return [...this.byDigest.values()];
  }

  /** Warnings reported so far. */
  get warnings(): VertexWarning[] {
    return [...this.warningList];
  }

  /** Vertices not completed yet. */
  get incomplete(): VertexUpdate[] {
    return this.vertexes.filter((v) => !v.completed);
  }

  /** Vertices that reported an error. */
  get failed(): VertexUpdate[] {
    return this.vertexes.filter((v) => v.error);
  }

  /** All output the build's steps printed, per vertex digest. */
  logsOf(digest: string): string {
    return Buffer.concat(this.logChunks.filter((l) => l.vertex === digest).map((l) => Buffer.from(l.data))).toString('utf8');
  }
}

function definedFields(v: VertexUpdate): Partial<VertexUpdate> {
  return Object.fromEntries(Object.entries(v).filter(([, value]) => value !== undefined)) as Partial<VertexUpdate>;
}
