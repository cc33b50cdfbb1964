/** What one stage of the test run (a runner, or the typecheck) contributes to the tally. */
export interface StageResult {
  stage: string;
  passed: number;
  failed: number;
  skipped: number;
  /** Full names of the skipped tests, with the reason where the runner printed one. */
  skips: Array<{ name: string; reason?: string }>;
  /** Why the stage counts failures its report does not list (exit status, load errors, an unreadable report). */
  problems: string[];
}

/** A stage that could not be read at all: one failure, for `problem`. */
export function unreadableStage(stage: string, problem: string): StageResult {
  return { stage, passed: 0, failed: 1, skipped: 0, skips: [], problems: [problem] };
}

/** A stage that is one command: passed when it exited 0, else one failure naming its exit status. */
export function commandStage(stage: string, exitCode: number): StageResult {
  return exitCode === 0
    ? { stage, passed: 1, failed: 0, skipped: 0, skips: [], problems: [] }
    : { stage, passed: 0, failed: 1, skipped: 0, skips: [], problems: [`exited ${exitCode}`] };
}

/** A one-command stage that could not run: one skip, with why. */
export function skippedStage(stage: string, reason: string): StageResult {
  return { stage, passed: 0, failed: 0, skipped: 1, skips: [{ name: stage, reason }], problems: [] };
}

/** The line scripts/test-all.sh ends with. */
export function finalLine(stages: readonly StageResult[]): string {
  const sum = (key: 'passed' | 'failed' | 'skipped') => stages.reduce((n, s) => n + s[key], 0);
  return `${sum('passed')} passed, ${sum('failed')} failed, ${sum('skipped')} skipped`;
}
