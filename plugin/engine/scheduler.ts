/**
 * Runs a dependency graph of tasks with a concurrency limit. A task starts
 * when every task it depends on has succeeded and a slot is free.
 * `fail-fast` cancels everything still running or waiting after the first
 * failure; `keep-going` lets independent tasks finish and reports the
 * dependants of a failed task as skipped. The caller's AbortSignal cancels
 * everything. Pure scheduling: what a task does is the caller's function.
 */

import { EventQueue } from './event-queue';

/** How the run reacts to a failed task. */
export type FailureMode = 'fail-fast' | 'keep-going';

/** One node of the graph. */
export interface ScheduledTask {
  id: string;
  /** IDs of tasks that must succeed first. */
  dependsOn: readonly string[];
}

/** The end of one task. */
export type TaskOutcome =
  | { id: string; status: 'succeeded' }
  | { id: string; status: 'failed'; error: unknown }
  /** Not started: a dependency failed or was skipped, or the run was cancelled first. */
  | { id: string; status: 'skipped'; reason: string }
  /** Started, then cancelled (fail-fast or the caller's signal). */
  | { id: string; status: 'cancelled'; error: unknown };

export interface ScheduleOptions {
  concurrency: number;
  mode: FailureMode;
  signal?: AbortSignal;
  /** Called as each task ends, in the order they end. */
  onOutcome?: (outcome: TaskOutcome) => void;
  /** Called when a task starts. */
  onStart?: (id: string) => void;
  /** Further conditions on starting a ready task (e.g. registry credentials that must not overlap). */
  gate?: StartGate;
}

/** Decides whether a ready task may start now; tells the scheduler when that may have changed. */
export interface StartGate {
  canStart(id: string): boolean;
  /** Subscribe to "something that blocked a start went away"; returns an unsubscribe function. */
  onChange(listener: () => void): () => void;
}

/**
 * Run `tasks`; `run(id, signal)` does the work of one task and must honour
 * its signal (aborted on fail-fast or on the caller's abort). Resolves with
 * every task's outcome once nothing runs any more; never rejects for task failures.
 */
export async function schedule(
  tasks: readonly ScheduledTask[],
  run: (id: string, signal: AbortSignal) => Promise<void>,
  options: ScheduleOptions,
): Promise<TaskOutcome[]> {
  validateGraph(tasks);
  if (!(options.concurrency >= 1)) throw new Error(`concurrency must be at least 1 (got ${options.concurrency})`);
  const scheduled = new ScheduledRun(tasks, run, options);
  const onCallerAbort = () => scheduled.cancel(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) scheduled.cancel(options.signal.reason);
  const unsubscribe = options.gate?.onChange(() => scheduled.changed());
  try {
    await scheduled.untilDone();
  } finally {
    options.signal?.removeEventListener('abort', onCallerAbort);
    unsubscribe?.();
  }
  return scheduled.outcomes();
}

/** The state of one {@link schedule} call: what ended, what runs, and the wake-ups that may change either. */
class ScheduledRun {
  private readonly ended = new Map<string, TaskOutcome>();
  private readonly running = new Map<string, AbortController>();
  private readonly cancelAll = new AbortController();
  /** What may let a task start or the run end: a task ended, the gate opened, the run was cancelled. */
  private readonly changes = new EventQueue<'changed'>();

  constructor(
    private readonly tasks: readonly ScheduledTask[],
    private readonly run: (id: string, signal: AbortSignal) => Promise<void>,
    private readonly options: ScheduleOptions,
  ) {
    this.cancelAll.signal.addEventListener('abort', () => {
      for (const controller of this.running.values()) controller.abort(this.cancelAll.signal.reason);
      this.changed();
    });
  }

  cancel(reason: unknown): void {
    this.cancelAll.abort(reason);
  }

  changed(): void {
    this.changes.push('changed');
  }

  /** Step on every change until nothing runs or waits. */
  async untilDone(): Promise<void> {
    try {
      if (this.step()) return;
      for await (const _ of this.changes) if (this.step()) return;
    } finally {
      this.changes.end();
    }
  }

  outcomes(): TaskOutcome[] {
    return this.tasks.map((t) => this.ended.get(t.id)!);
  }

  /** Settle what can no longer run, start what is ready; true once nothing runs or waits. */
  private step(): boolean {
    this.settleBlocked();
    // Start what is ready, in the given order, while slots are free.
    for (const task of this.tasks) {
      if (this.running.size >= this.options.concurrency || this.cancelAll.signal.aborted) break;
      if (this.ended.has(task.id) || this.running.has(task.id)) continue;
      if (!task.dependsOn.every((d) => this.ended.get(d)?.status === 'succeeded')) continue;
      // A task held back by the gate lets later ready tasks start in its place.
      if (this.options.gate && !this.options.gate.canStart(task.id)) continue;
      this.start(task);
    }
    return this.running.size === 0 && this.tasks.every((t) => this.ended.has(t.id));
  }

  /** Waiting tasks that can no longer start: the run was cancelled, or a dependency did not succeed. */
  private settleBlocked(): void {
    for (const task of this.tasks) {
      if (this.ended.has(task.id) || this.running.has(task.id)) continue;
      if (this.cancelAll.signal.aborted) {
        this.finish({ id: task.id, status: 'skipped', reason: 'the run was cancelled before it started' });
        continue;
      }
      const blocker = task.dependsOn.map((d) => this.ended.get(d)).find((o) => o && o.status !== 'succeeded');
      if (blocker) this.finish({ id: task.id, status: 'skipped', reason: `dependency ${blocker.id} ${blocker.status}` });
    }
  }

  private start(task: ScheduledTask): void {
    const controller = new AbortController();
    this.running.set(task.id, controller);
    this.options.onStart?.(task.id);
    void this.run(task.id, controller.signal).then(
      () => this.finish({ id: task.id, status: 'succeeded' }),
      (error: unknown) => {
        if (controller.signal.aborted) this.finish({ id: task.id, status: 'cancelled', error });
        else {
          this.finish({ id: task.id, status: 'failed', error });
          if (this.options.mode === 'fail-fast') this.cancelAll.abort(new Error(`${task.id} failed`));
        }
      },
    ).finally(() => {
      this.running.delete(task.id);
      this.changed();
    });
  }

  private finish(outcome: TaskOutcome): void {
    this.ended.set(outcome.id, outcome);
    this.options.onOutcome?.(outcome);
  }
}

/** Unknown dependencies and cycles are programming errors of the planner. */
function validateGraph(tasks: readonly ScheduledTask[]): void {
  const byId = new Map(tasks.map((t) => [t.id, t]));
  if (byId.size !== tasks.length) throw new Error('duplicate task ids');
  for (const t of tasks) {
    for (const d of t.dependsOn) if (!byId.has(d)) throw new Error(`${t.id} depends on unknown task ${d}`);
  }
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (id: string, chain: string[]) => {
    if (state.get(id) === 'done') return;
    if (state.get(id) === 'visiting') throw new Error(`dependency cycle: ${[...chain, id].join(' -> ')}`);
    state.set(id, 'visiting');
    for (const d of byId.get(id)!.dependsOn) visit(d, [...chain, id]);
    state.set(id, 'done');
  };
  for (const t of tasks) visit(t.id, []);
}
