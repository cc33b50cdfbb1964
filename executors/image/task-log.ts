/** `[target] #N ERROR: <text>`, a step's error as the plain progress prints it; the text may start with a gRPC status name. */
const stepError = /^\[[^\]]*\] #\d+ ERROR: (?:[A-Z][A-Za-z]*: )?(.*)$/;

/**
 * A failed target's log as Nx shows it under the task: its progress lines
 * and then `failure`, the one error line naming the task. A step's ERROR
 * line whose text the failure repeats word for word is left out, so the
 * task's log states each error once (the step is still named by its
 * `#N <name>` line). Other ERROR lines (e.g. a step that failed before the
 * one that stopped the build) stay.
 */
export function failedTaskLog(progress: readonly string[], failure: string): string {
  const lines = progress.filter((line) => {
    const said = stepError.exec(line)?.[1];
    return !said || !failure.includes(said);
  });
  return [...lines, failure].join('\n') + '\n';
}
