import { unreadableStage, type StageResult } from './stage-result';

/**
 * The e2e stage under Node (e2e/node/run-scenarios.ts): its `ok` /
 * `not ok` / `# SKIP` lines, checked against its last line
 * (`node-e2e-tally passed=N failed=N skipped=N`) and its exit status. A run
 * without that line did not finish; counts that disagree with the lines,
 * or a non-zero exit without a failure, fail the stage.
 */
export function nodeStage(input: { log: string; exitCode: number }): StageResult {
  const stage = 'e2e under Node';
  const lines = input.log.split('\n');
  const tallyLine = lines.map((l) => /^node-e2e-tally passed=(\d+) failed=(\d+) skipped=(\d+)\b/.exec(l)).filter((m) => m !== null).at(-1);
  if (!tallyLine) return unreadableStage(stage, `the Node e2e run did not finish: no node-e2e-tally line (exit status ${input.exitCode})`);
  let passed = 0;
  let failed = 0;
  const skips: StageResult['skips'] = [];
  for (const line of lines) {
    const skip = /^ok - \[node\] (.*) # SKIP (.*)$/.exec(line);
    if (skip) skips.push({ name: skip[1]!, reason: skip[2]! });
    else if (/^ok - \[node\] /.test(line)) passed++;
    else if (/^not ok - \[node\] /.test(line)) failed++;
  }
  const problems: string[] = [];
  const [p, f, s] = [Number(tallyLine[1]), Number(tallyLine[2]), Number(tallyLine[3])];
  if (p !== passed || f !== failed || s !== skips.length) {
    problems.push(`the Node e2e tally (${p} passed, ${f} failed, ${s} skipped) disagrees with its lines (${passed}, ${failed}, ${skips.length})`);
    failed++;
  }
  if (input.exitCode !== 0 && failed === 0) {
    problems.push(`the Node e2e run exited with status ${input.exitCode} without a failing scenario`);
    failed++;
  }
  return { stage, passed, failed, skipped: skips.length, skips, problems };
}
