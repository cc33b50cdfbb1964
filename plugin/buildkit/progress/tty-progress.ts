import type { SolveStatus } from '../control/types';
import { redact } from '../redact';
import { ProgressTracker } from './progress-tracker';

/**
 * Where a live view is drawn: lines replaced in place, plus lines printed
 * above them for good. The executor backs it with `log-update` on a
 * terminal; tests back it with an array. (This client imports no terminal
 * library, so the drawing itself stays outside it.)
 */
export interface LiveRegion {
  /** Replace the live lines with `text`. */
  update(text: string): void;
  /** Print `text` above the live lines, where it stays in the scrollback. */
  persist(text: string): void;
  /** Stop: the last live lines stay as they are. */
  done(): void;
}

/** How a target ended. */
export type TargetEnd = 'success' | 'failure' | 'skipped';

interface TargetState {
  tracker: ProgressTracker;
  state: 'waiting' | 'running' | TargetEnd;
  startedAt?: number;
  note?: string;
}

/** Options of {@link TtyProgress}. */
export interface TtyProgressOptions {
  /** Clock in ms (tests fix it). */
  now?: () => number;
  /** Terminal width: every line is cut to fit, so a target keeps one line. */
  width?: () => number;
  /** Redraw interval for the elapsed times; 0 = only on events. */
  intervalMs?: number;
}

/**
 * The `tty` progress of a run: one live line per running target (its step
 * count and current step), one footer line counting the others, and a
 * summary line per finished target printed above the live view, where it
 * stays. Every line is redacted.
 */
export class TtyProgress {
  private readonly targets = new Map<string, TargetState>();
  private readonly now: () => number;
  private readonly width: () => number;
  private readonly startedAt: number;
  private readonly timer?: ReturnType<typeof setInterval>;
  private closed = false;

  constructor(
    private readonly region: LiveRegion,
    names: readonly string[],
    options: TtyProgressOptions = {},
  ) {
    this.now = options.now ?? Date.now;
    this.width = options.width ?? (() => 80);
    this.startedAt = this.now();
    for (const name of names) this.targets.set(name, { tracker: new ProgressTracker(), state: 'waiting' });
    const interval = options.intervalMs ?? 250;
    if (interval > 0) {
      this.timer = setInterval(() => this.draw(), interval);
      // The view must never keep the process alive.
      this.timer.unref?.();
    }
    this.draw();
  }

  /** Feed one Status message of `target`. */
  update(target: string, status: SolveStatus): void {
    const t = this.started(target);
    t.tracker.update(status);
    this.draw();
  }

  /** Show a line of ours (a retry, say) as the target's current activity. */
  note(target: string, text: string): void {
    this.started(target).note = text.split('\n')[0];
    this.draw();
  }

  /** The target ended: its summary line is printed above the live view. */
  finish(target: string, end: TargetEnd, summary: string): void {
    const t = this.targets.get(target);
    if (!t || this.closed) return;
    const elapsed = t.startedAt === undefined ? '' : ` ${seconds(this.now() - t.startedAt)}`;
    t.state = end;
    const mark = end === 'success' ? 'done' : end === 'failure' ? 'FAILED' : 'skipped';
    this.region.persist(this.fit(`[${target}] ${mark}${elapsed}: ${summary.split('\n')[0]}`));
    this.draw();
  }

  /** A run-level line, printed above the live view. */
  message(text: string): void {
    if (this.closed) return;
    for (const line of text.split('\n')) this.region.persist(this.fit(line));
    this.draw();
  }

  /** The live lines as they are now. */
  render(): string {
    const lines: string[] = [];
    const counts = { waiting: 0, running: 0, success: 0, failure: 0, skipped: 0 };
    for (const [name, t] of this.targets) {
      counts[t.state]++;
      if (t.state === 'running') lines.push(this.fit(this.line(name, t)));
    }
    const parts = [`${counts.running} running`, `${counts.waiting} waiting`, `${counts.success} done`];
    if (counts.failure) parts.push(`${counts.failure} failed`);
    if (counts.skipped) parts.push(`${counts.skipped} skipped`);
    lines.push(this.fit(`nx-buildkit: ${parts.join(', ')} (${seconds(this.now() - this.startedAt)})`));
    return lines.join('\n');
  }

  /** Stop redrawing; the final view stays on screen. */
  close(): void {
    if (this.closed) return;
    this.draw();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.region.done();
  }

  private started(target: string): TargetState {
    let t = this.targets.get(target);
    if (!t) this.targets.set(target, (t = { tracker: new ProgressTracker(), state: 'waiting' }));
    if (t.state === 'waiting') {
      t.state = 'running';
      t.startedAt = this.now();
    }
    return t;
  }

  private line(name: string, t: TargetState): string {
    const vertexes = t.tracker.vertexes;
    const done = vertexes.filter((v) => v.completed || v.cached).length;
    // The step shown is the one started last that is still running.
    const current = vertexes.filter((v) => v.started && !v.completed && !v.cached).sort((a, b) => b.started!.getTime() - a.started!.getTime())[0];
    const activity = current?.name ?? t.note ?? (vertexes.length ? 'waiting for the builder' : 'starting');
    return `[${name}] [${done}/${vertexes.length}] ${activity} ${seconds(this.now() - (t.startedAt ?? this.now()))}`;
  }

  private fit(line: string): string {
    // Redact before cutting, so a cut can never leave part of a secret behind.
    const chars = Array.from(redact(line).replace(/[\x00-\x08\x0b-\x1f\x7f]/g, ' '));
    const width = Math.max(20, this.width() - 1);
    return chars.length > width ? chars.slice(0, width - 1).join('') + '…' : chars.join('');
  }

  private draw(): void {
    if (!this.closed) this.region.update(this.render());
  }
}

function seconds(ms: number): string {
  return `${(ms / 1000).toFixed(1)}s`;
}
