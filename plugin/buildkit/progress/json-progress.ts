import type { SolveStatus, VertexUpdate } from '../control/types';
import { redact } from '../redact';
import { LogLines } from './log-lines';

/** A step's state, as `json` progress reports it. */
export type JsonVertexStatus = 'started' | 'completed' | 'cached' | 'error';

/**
 * One line of `json` progress (one JSON object per line). Every event has
 * `time` (when we emitted it, ISO 8601), `target` and `type`:
 *
 * - `vertex`: a step changed state. `vertex` (digest), `step` (its number in
 *   this target, as plain progress shows `#n`), `name`, `status`, and as
 *   known `started`/`completed` (the daemon's times) and `error`.
 * - `log`: one whole line a step printed: `vertex`, `step`,
 *   `stream` (`stdout`/`stderr`), `text` (without the newline).
 * - `warning`: `vertex`, `text` (the warning's short form), `url` if any.
 * - `message`: a line of ours about the target (`text`): retries, the result.
 * - `result`: the target finished: `status` `success`/`failure`/`skipped`, `text`.
 *
 * Run-level lines have `target: null`. Like buildx's `rawjson`, but one
 * event per line with its target named, logs as text, and every string
 * redacted.
 */
export interface JsonProgressEvent {
  time: string;
  target: string | null;
  type: 'vertex' | 'log' | 'warning' | 'message' | 'result';
  vertex?: string;
  step?: number;
  name?: string;
  status?: JsonVertexStatus | 'success' | 'failure' | 'skipped';
  started?: string;
  completed?: string;
  error?: string;
  stream?: 'stdout' | 'stderr';
  text?: string;
  url?: string;
}

/** Turns one target's Status stream into {@link JsonProgressEvent} lines. */
export class JsonProgress {
  private readonly numbers = new Map<string, number>();
  private readonly reported = new Map<string, JsonVertexStatus>();
  private readonly logLines = new LogLines();

  constructor(
    private readonly target: string | null,
    private readonly emit: (line: string) => void,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /** Feed one Status message. */
  update(status: SolveStatus): void {
    for (const v of status.vertexes) this.vertex(v);
    for (const log of status.logs) for (const line of this.logLines.push(log)) this.log(line.vertex, line.stream, line.text);
    for (const w of status.warnings) this.event({ type: 'warning', vertex: w.vertex, text: w.short, ...(w.url ? { url: w.url } : {}) });
  }

  /** Emit output still waiting for its newline. */
  flush(): void {
    for (const line of this.logLines.flush()) this.log(line.vertex, line.stream, line.text);
  }

  /** A line of ours about the target. */
  note(text: string): void {
    this.event({ type: 'message', text });
  }

  /** The target's end. */
  result(status: 'success' | 'failure' | 'skipped', text: string): void {
    this.flush();
    this.event({ type: 'result', status, text });
  }

  private vertex(v: VertexUpdate): void {
    const state: JsonVertexStatus | undefined = v.error ? 'error' : v.cached ? 'cached' : v.completed ? 'completed' : v.started ? 'started' : undefined;
    const before = this.reported.get(v.digest);
    // Only changes are events; a finished step re-reported (lazy pulls) stays finished.
    if (!state || state === before || (before && before !== 'started')) return;
    this.reported.set(v.digest, state);
    if (state !== 'started') for (const line of this.logLines.flush(v.digest)) this.log(line.vertex, line.stream, line.text);
    this.event({
      type: 'vertex',
      vertex: v.digest,
      step: this.number(v.digest),
      name: v.name,
      status: state,
      ...(v.started ? { started: v.started.toISOString() } : {}),
      ...(v.completed ? { completed: v.completed.toISOString() } : {}),
      ...(v.error ? { error: v.error } : {}),
    });
  }

  private log(vertex: string, stream: number, text: string): void {
    this.event({ type: 'log', vertex, step: this.number(vertex), stream: stream === 2 ? 'stderr' : 'stdout', text });
  }

  private number(digest: string): number {
    let n = this.numbers.get(digest);
    if (n === undefined) this.numbers.set(digest, (n = this.numbers.size + 1));
    return n;
  }

  private event(fields: Omit<JsonProgressEvent, 'time' | 'target'>): void {
    const event: JsonProgressEvent = { time: this.now().toISOString(), target: this.target, ...fields };
    // Builds may print secret values. Each string is scrubbed before it is
    // serialized: a value with quotes or backslashes looks different once
    // escaped, and the line must stay valid JSON.
    for (const key of ['name', 'error', 'text', 'url'] as const) if (event[key]) event[key] = redact(event[key]!);
    this.emit(JSON.stringify(event));
  }
}
