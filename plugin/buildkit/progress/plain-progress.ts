import type { SolveStatus } from '../control/types';
import { redact } from '../redact';
import { LogLines } from './log-lines';

/**
 * Turns a target's Status stream into plain text lines, like
 * `docker buildx build --progress=plain`, each prefixed with the target's
 * name so the output of parallel builds stays readable in CI logs.
 * Every line is also kept, to become the target's own task log.
 */
export class PlainProgress {
  private readonly numbers = new Map<string, number>();
  private readonly announced = new Set<string>();
  private readonly finished = new Set<string>();
  private readonly logLines = new LogLines();
  private readonly kept: string[] = [];

  constructor(
    private readonly prefix: string,
    private readonly emit: (line: string) => void = () => {},
  ) {}

  /** Every line produced so far. */
  get lines(): readonly string[] {
    return this.kept;
  }

  /** Add a line of our own (results, errors). */
  note(text: string): void {
    for (const line of text.split('\n')) this.out(line);
  }

  /** Feed one Status message. */
  update(status: SolveStatus): void {
    for (const v of status.vertexes) {
      const n = this.number(v.digest);
      if (!this.announced.has(v.digest) && (v.started || v.cached)) {
        this.announced.add(v.digest);
        this.out(`#${n} ${v.name}`);
      }
      if (this.finished.has(v.digest)) continue;
      if (v.cached) {
        this.finished.add(v.digest);
        this.out(`#${n} CACHED`);
      } else if (v.error) {
        this.finished.add(v.digest);
        this.out(`#${n} ERROR: ${v.error}`);
      } else if (v.completed && v.started) {
        this.finished.add(v.digest);
        this.out(`#${n} DONE ${((v.completed.getTime() - v.started.getTime()) / 1000).toFixed(1)}s`);
      }
    }
    for (const log of status.logs) {
      for (const line of this.logLines.push(log)) this.out(`#${this.number(line.vertex)} ${line.text}`);
    }
    for (const w of status.warnings) this.out(`WARNING: ${w.short}`);
  }

  /** Print output still waiting for its newline (the build ended without one). */
  flush(): void {
    for (const line of this.logLines.flush()) this.out(`#${this.number(line.vertex)} ${line.text}`);
  }

  private number(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) {
      n = this.numbers.size + 1;
      this.numbers.set(digest, n);
    }
    return n;
  }

  private out(line: string): void {
    // Builds may print secret values; every registered secret is scrubbed.
    const text = redact(`[${this.prefix}] ${line}`);
    this.kept.push(text);
    this.emit(text);
  }
}
