import { parseJunit } from './parse-junit';
import { unreadableStage, type StageResult } from './stage-result';

/** The summary `bun test` prints last (` 3 pass`, ` 1 skip`, ` 1 fail`, ` 1 error`, `Ran 5 tests across 2 files.`). */
interface BunSummary {
  pass: number;
  skip: number;
  todo: number;
  fail: number;
  errors: number;
}

function parseSummary(log: string): BunSummary | undefined {
  const lines = log.replace(/\x1b\[[0-9;]*m/g, '').split('\n');
  const ran = lines.findLastIndex((l) => /^Ran \d+ tests? across \d+ files?\./.test(l.trim()));
  if (ran < 0) return undefined;
  const summary: BunSummary = { pass: 0, skip: 0, todo: 0, fail: 0, errors: 0 };
  // The counts sit just above the "Ran …" line; Bun leaves out the zero ones except pass and fail.
  for (let i = ran - 1; i >= 0; i--) {
    const m = /^\s*(\d+) (pass|skip|todo|fail|errors?|filtered out|expect\(\) calls?|snapshots?.*)$/.exec(lines[i]!);
    if (!m) break;
    const n = Number(m[1]);
    if (m[2] === 'pass') summary.pass = n;
    else if (m[2] === 'skip') summary.skip = n;
    else if (m[2] === 'todo') summary.todo = n;
    else if (m[2] === 'fail') summary.fail = n;
    else if (m[2]!.startsWith('error')) summary.errors = n;
  }
  return summary;
}

/**
 * The `bun test` stage: the JUnit report's test cases, checked against the
 * summary Bun printed and its exit status. Errors outside any test (a file
 * that does not load, a throwing `describe` body, an unhandled error between
 * tests) are in neither the report's cases nor its failures: each counts as
 * a failure here. So does a non-zero exit without a failing test, and a
 * report or summary that cannot be read.
 */
export function bunStage(input: { junit: string | undefined; log: string; exitCode: number }): StageResult {
  const stage = 'bun test';
  if (input.junit === undefined) return unreadableStage(stage, `bun test wrote no JUnit report (exit status ${input.exitCode})`);
  let report;
  try {
    report = parseJunit(input.junit);
  } catch (error) {
    return unreadableStage(stage, `the JUnit report of bun test cannot be read: ${(error as Error).message}`);
  }
  const passed = report.cases.filter((c) => c.status === 'passed').length;
  let failed = report.cases.filter((c) => c.status === 'failed').length;
  const skippedCases = report.cases.filter((c) => c.status === 'skipped');
  const problems: string[] = [];
  const summary = parseSummary(input.log);
  if (!summary) {
    problems.push('the summary of bun test (its "Ran N tests across N files." block) is missing from its output');
    failed++;
  } else {
    const outside = Math.max(summary.fail - failed, summary.errors, 0);
    if (outside > 0) {
      problems.push(`bun test reported ${summary.errors} error(s) and ${summary.fail} failure(s), ${failed} of them in the report: ${outside} outside any test (a file that did not load, a throwing describe body, an unhandled error) count as failed`);
      failed += outside;
    }
    if (summary.pass !== passed || summary.skip + summary.todo !== skippedCases.length) {
      problems.push(`bun test printed ${summary.pass} pass / ${summary.skip + summary.todo} skip, its report holds ${passed} / ${skippedCases.length}`);
      failed++;
    }
  }
  if (input.exitCode !== 0 && failed === 0) {
    problems.push(`bun test exited with status ${input.exitCode} without a failing test`);
    failed++;
  }
  const reasons = skipReasons(input.log);
  const skips = skippedCases.map((c) => ({ name: c.name, ...(reasons.has(c.name) ? { reason: reasons.get(c.name)! } : {}) }));
  return { stage, passed, failed, skipped: skips.length, skips, problems };
}

/** `skipped: <full name>: <reason>` lines, as e2e/support/skip.ts prints them. */
function skipReasons(log: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of log.split('\n')) {
    if (!line.startsWith('skipped: ')) continue;
    // The name itself may hold ": ": the reason is after the last one the name cannot end with.
    const rest = line.slice('skipped: '.length);
    for (let i = rest.indexOf(': '); i >= 0; i = rest.indexOf(': ', i + 1)) out.set(rest.slice(0, i), rest.slice(i + 2));
  }
  return out;
}
