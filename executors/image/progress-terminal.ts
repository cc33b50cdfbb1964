import fs from 'node:fs';
import tty from 'node:tty';
import { isCi, resolveProgressMode, type OutputStream, type ProgressMode, type ProgressOption } from './progress-display';

/** Where a run's progress goes, in which mode, and why not the live view when it was asked for and is not shown. */
export interface ProgressTerminal {
  mode: ProgressMode;
  stream: OutputStream;
  /**
   * True when the view is drawn on the controlling terminal beside Nx's own
   * output: Nx prints each task's log as its result comes in, so results are
   * held until the view is closed (a line printed under a live region is
   * overwritten by its next redraw).
   */
  controlling: boolean;
  /** Set when `auto` or `tty` ends up plain: the reason, for the verbose log. */
  plainBecause?: string;
  /** Closes the controlling terminal when one was opened. */
  close(): void;
}

/** A terminal stream that must be closed after use. */
export type ClosableStream = OutputStream & { close(): void };

/**
 * Choose where progress is drawn. Nx pipes an executor's stdout (always for
 * a batch worker, which `nx run-many` uses), so stdout is not a terminal even
 * when the user sits at one. Like Docker and buildx, which draw on the
 * terminal they run in, the live view then goes to the controlling terminal
 * (`/dev/tty`), unless CI is set (CI logs keep plain lines) or Nx's own
 * terminal UI owns the screen (`NX_TUI=true`, inherited from Nx: a second
 * writer would garble it). `openControllingTerminal` is absent where a
 * caller supplies its own stream (tests), which then decides alone.
 */
export function chooseProgressTerminal(
  option: ProgressOption,
  stdout: OutputStream,
  env: NodeJS.ProcessEnv,
  openControllingTerminal?: () => ClosableStream,
): ProgressTerminal {
  const onStdout = (mode: ProgressMode, plainBecause?: string): ProgressTerminal => ({ mode, stream: stdout, controlling: false, ...(plainBecause ? { plainBecause } : {}), close: () => {} });
  if (option !== 'auto' && option !== 'tty') return onStdout(option);
  const ci = isCi(env);
  if (stdout.isTTY) {
    const mode = resolveProgressMode(option, stdout, env);
    return onStdout(mode, mode === 'plain' ? `CI is set (CI=${env.CI})` : undefined);
  }
  if (ci) return onStdout('plain', `stdout is not a terminal, and CI is set (CI=${env.CI}), so the controlling terminal is not used`);
  if (env.NX_TUI === 'true') return onStdout('plain', "Nx's terminal UI owns the terminal (NX_TUI=true); it shows these lines in its task panes");
  // Nx draws a live region of its own (its dynamic output) unless it streams task output; two
  // writers redrawing one screen garble each other, so the view waits for a run that streams.
  if (env.NX_STREAM_OUTPUT !== 'true') return onStdout('plain', 'Nx may draw its own live view on this terminal (no --output-style=stream, --batch or NX_STREAM_OUTPUT=true), so the controlling terminal is not used');
  if (!openControllingTerminal) return onStdout('plain', 'stdout is not a terminal');
  try {
    const terminal = openControllingTerminal();
    return { mode: 'tty', stream: terminal, controlling: true, close: () => terminal.close() };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return onStdout('plain', `stdout is not a terminal (Nx pipes it) and there is no controlling terminal to draw on (/dev/tty: ${code})`);
  }
}

/** The process's controlling terminal, opened for writing; throws (ENXIO, ENOENT…) when there is none. */
export function openControllingTerminal(): ClosableStream {
  const fd = fs.openSync('/dev/tty', 'w');
  let stream: tty.WriteStream;
  try {
    stream = new tty.WriteStream(fd);
  } catch (err) {
    fs.closeSync(fd);
    throw err;
  }
  return {
    isTTY: true,
    get columns() {
      return stream.columns;
    },
    get rows() {
      return stream.rows;
    },
    write: (chunk: string) => stream.write(chunk),
    // end(): what was written reaches the terminal before the descriptor closes.
    close: () => stream.end(),
  };
}
