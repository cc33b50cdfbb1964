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
  const outcomes = new Map<string, TaskOutcome>();
  const running = new Map<string, AbortController>();
  const cancelAll = new AbortController();
  const onCallerAbort = () => cancelAll.abort(options.signal?.reason);
  options.signal?.addEventListener('abort', onCallerAbort, { once: true });
  if (options.signal?.aborted) cancelAll.abort(options.signal.reason);
  // What may let a task start or the run end: a task ended, the gate opened, the run was cancelled.
  const changes = new EventQueue<'changed'>();
  const changed = () => changes.push('changed');
  const unsubscribe = options.gate?.onChange(changed);

  const finish = (outcome: TaskOutcome) => {
    outcomes.set(outcome.id, outcome);
    options.onOutcome?.(outcome);
  };

  cancelAll.signal.addEventListener('abort', () => {
    for (const controller of running.values()) controller.abort(cancelAll.signal.reason);
    changed();
  });

  /** Settle what can no longer run, start what is ready; true once nothing runs or waits. */
  const step = (): boolean => {
    for (const task of tasks) {
      if (outcomes.has(task.id) || running.has(task.id)) continue;
      if (cancelAll.signal.aborted) {
        finish({ id: task.id, status: 'skipped', reason: 'the run was cancelled before it started' });
        continue;
      }
      const blocker = task.dependsOn.map((d) => outcomes.get(d)).find((o) => o && o.status !== 'succeeded');
      if (blocker) finish({ id: task.id, status: 'skipped', reason: `dependency ${blocker.id} ${blocker.status}` });
    }
    // Start what is ready, in the given order, while slots are free.
    for (const task of tasks) {
      if (running.size >= options.concurrency || cancelAll.signal.aborted) break;
      if (outcomes.has(task.id) || running.has(task.id)) continue;
      if (!task.dependsOn.every((d) => outcomes.get(d)?.status === 'succeeded')) continue;
      // A task held back by the gate lets later ready tasks start in its place.
      if (options.gate && !options.gate.canStart(task.id)) continue;
      start(task);
    }
    return running.size === 0 && tasks.every((t) => outcomes.has(t.id));
  };

  const start = (task: ScheduledTask) => {
    const controller = new AbortController();
    running.set(task.id, controller);
    options.onStart?.(task.id);
    void run(task.id, controller.signal).then(
      () => finish({ id: task.id, status: 'succeeded' }),
      (error: unknown) => {
        if (controller.signal.aborted) finish({ id: task.id, status: 'cancelled', error });
        else {
          finish({ id: task.id, status: 'failed', error });
          if (options.mode === 'fail-fast') cancelAll.abort(new Error(`${task.id} failed`));
        }
      },
    ).finally(() => {
      running.delete(task.id);
      changed();
    });
  };

  try {
    if (!step()) {
      for await (const _ of changes) if (step()) break;
    }
  } finally {
    options.signal?.removeEventListener('abort', onCallerAbort);
    unsubscribe?.();
    changes.end();
  }
  return tasks.map((t) => outcomes.get(t.id)!);
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
