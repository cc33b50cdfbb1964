import type { ImageExecutorOptions } from '../../plugin/config/executor-options';

/** Options that configure the whole run rather than one image, so one process can honour only one value. */
export const runLevelOptions = ['progress', 'bakeMetadataFile'] as const satisfies ReadonlyArray<keyof ImageExecutorOptions>;

/**
 * Every task of a run must agree on the run-level options: Nx hands each
 * task its own options, and silently taking the first task's value would
 * write the aggregated file somewhere the others never asked for. A
 * disagreement names each task that differs from the first, and the field
 * (by task id).
 */
export function runLevelOptionProblems(tasks: ReadonlyArray<{ taskId: string; project: string; target: string; options: ImageExecutorOptions }>): Map<string, string[]> {
  const [first, ...rest] = tasks;
  const problems = new Map<string, string[]>();
  if (!first) return problems;
  for (const t of rest) {
    for (const field of runLevelOptions) {
      const mine = t.options[field];
      const theirs = first.options[field];
      if (mine !== theirs) {
        problems.set(t.taskId, [...(problems.get(t.taskId) ?? []), `${t.project}:${t.target}: option "${field}": must be the same for every task of a run (${show(mine)} here, ${show(theirs)} for ${first.project}:${first.target})`]);
      }
    }
  }
  return problems;
}

function show(value: unknown): string {
  return value === undefined ? 'unset' : JSON.stringify(value);
}
