import { JsonProgress, PlainProgress, TtyProgress, redact, type LiveRegion, type SolveStatus, type TargetEnd } from '../../plugin/buildkit/index';
import type { ImageExecutorOptions } from '../../plugin/config/executor-options';

/** The `progress` option as written. */
export type ProgressOption = ImageExecutorOptions['progress'];
/** What a run actually shows. */
export type ProgressMode = Exclude<ProgressOption, 'auto'>;

/** The executor's stdout, or a test's stand-in. */
export interface OutputStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  columns?: number;
  rows?: number;
}

/**
 * `auto` is the live view on a terminal outside CI, plain lines elsewhere
 * (CI logs keep every line, a live view would be noise there). `tty` falls
 * back to plain when stdout is not a terminal: cursor movements written to a
 * file or pipe only garble it.
 */
export function resolveProgressMode(option: ProgressOption, stream: OutputStream, env: NodeJS.ProcessEnv): ProgressMode {
  const ci = isCi(env);
  if (option === 'auto') return stream.isTTY && !ci ? 'tty' : 'plain';
  if (option === 'tty') return stream.isTTY ? 'tty' : 'plain';
  return option;
}

/** CI=false (or 0, or empty) is how people say "not CI"; any other value is CI. */
export function isCi(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && !['', '0', 'false'].includes(env.CI.toLowerCase());
}

/**
 * One target's progress. Whatever the mode shows, the target's plain lines
 * are kept: they are its Nx task log (`terminalOutput`).
 */
export class TargetProgress {
  private readonly plain: PlainProgress;
  private readonly json?: JsonProgress;

  constructor(
    private readonly name: string,
    mode: ProgressMode,
    write: (line: string) => void,
    private readonly tty?: TtyProgress,
  ) {
    this.plain = new PlainProgress(name, mode === 'plain' ? write : () => {});
    if (mode === 'json') this.json = new JsonProgress(name, write);
  }

  /** The target's task log so far (redacted). */
  get lines(): readonly string[] {
    return this.plain.lines;
  }

  /** Feed one Status message. */
  update(status: SolveStatus): void {
    this.plain.update(status);
    this.json?.update(status);
    this.tty?.update(this.name, status);
  }

  /** A line of ours (a retry, say). */
  note(text: string): void {
    this.plain.note(text);
    this.json?.note(text);
    this.tty?.note(this.name, text);
  }

  /**
   * The target ended: held output is flushed, and the live modes show the
   * summary (json: a `result` event, tty: its line above the view). The task
   * log gets it from the caller, which decides where the lines go.
   */
  end(end: TargetEnd, summary: string): void {
    this.plain.flush();
    this.json?.result(end, summary);
    this.tty?.finish(this.name, end, summary);
  }
}

/** Everything a run shows, in the mode chosen. */
export class RunDisplay {
  private readonly json?: JsonProgress;

  private constructor(
    readonly mode: ProgressMode,
    private readonly write: (line: string) => void,
    private readonly tty?: TtyProgress,
  ) {
    if (mode === 'json') this.json = new JsonProgress(null, write);
  }

  /**
   * Open the display for these targets. `tty` draws on `stream` with
   * log-update (loaded only then: it is an ES module, and a plain or CI run
   * should not pay for it).
   */
  static async open(mode: ProgressMode, names: readonly string[], out: { write: (line: string) => void; stream: OutputStream }): Promise<RunDisplay> {
    if (mode !== 'tty') return new RunDisplay(mode, out.write);
    const region = await terminalRegion(out.stream);
    return new RunDisplay(mode, out.write, new TtyProgress(region, names, { width: () => out.stream.columns ?? 80 }));
  }

  /** The progress of one target. */
  target(name: string): TargetProgress {
    return new TargetProgress(name, this.mode, this.write, this.tty);
  }

  /** A run-level line; `quiet` drops it unless it is an error. */
  message(text: string, options: { error?: boolean } = {}): void {
    if (this.mode === 'quiet' && !options.error) return;
    if (this.json) this.json.note(text);
    else if (this.tty) this.tty.message(redact(text));
    else this.write(redact(text));
  }

  /** Stop the live view (its last state stays on screen). */
  close(): void {
    this.tty?.close();
  }
}

/** A {@link LiveRegion} on a terminal stream, drawn by log-update. */
export async function terminalRegion(stream: OutputStream): Promise<LiveRegion> {
  const { createLogUpdate } = await import('log-update');
  // The cursor stays visible: hiding it needs a hook that shows it again on
  // exit, and an executor killed by Nx would leave the user's terminal without one.
  const log = createLogUpdate(stream as NodeJS.WriteStream, { showCursor: true });
  return { update: (text) => log(text), persist: (text) => log.persist(text), done: () => log.done() };
}
