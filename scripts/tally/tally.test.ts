import { afterAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllowedSkips } from './allowed-skips';
import { bunStage } from './bun-stage';
import { nodeStage } from './node-stage';

// The tally of scripts/test-all.sh fed with what the real runners leave
// behind: test files run by `bun test` into a JUnit report, and scenarios
// run by the Node e2e runner, both deliberately broken in the ways a run can break.

const repo = path.resolve(import.meta.dir, '..', '..');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-tally-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));
let runs = 0;

/** Environment without the variables that make a run non-standard. */
function standardEnv(): Record<string, string> {
  const env = { ...process.env } as Record<string, string>;
  delete env.NXBK_E2E_BUILDER;
  delete env.NXBK_E2E_DAEMONS;
  return env;
}

/** Run `bun test` on these files (name → source) into a JUnit report; return the tally's arguments for it. */
function bunRun(files: Record<string, string>): string[] {
  const dir = path.join(work, `bun-${runs++}`);
  fs.mkdirSync(dir);
  for (const [name, source] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), source);
  const junit = path.join(dir, 'junit.xml');
  const r = spawnSync('bun', ['test', '--reporter=junit', `--reporter-outfile=${junit}`, ...Object.keys(files).map((f) => `./${f}`)], {
    cwd: dir,
    encoding: 'utf8',
    // The scenarios name an external builder, so they need no daemons.json; they never connect.
    env: { ...standardEnv(), NXBK_E2E_BUILDER: 'unix:///nonexistent/buildkitd.sock' },
  });
  const log = path.join(dir, 'bun.log');
  fs.writeFileSync(log, r.stdout + r.stderr);
  return ['--bun', junit, log, String(r.status)];
}

/** Build a Node e2e runner script (with `bun build --target=node`) and run it under Node; return the tally's arguments for it. */
function nodeRun(source: string): string[] {
  const dir = path.join(work, `node-${runs++}`);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'run.ts'), source);
  const built = spawnSync('bun', ['build', path.join(dir, 'run.ts'), '--target=node', `--outfile=${path.join(dir, 'run.mjs')}`], { encoding: 'utf8' });
  expect(built.status).toBe(0);
  const r = spawnSync('node', [path.join(dir, 'run.mjs')], { encoding: 'utf8' });
  const log = path.join(dir, 'node.log');
  fs.writeFileSync(log, r.stdout + r.stderr);
  return ['--node', log, String(r.status)];
}

/** Run the tally; its output lines and exit status. */
function tally(args: string[], options: { standard?: boolean; allowed?: string } = {}): { lines: string[]; last: string; status: number | null } {
  const allowedFile = path.join(work, `allowed-${runs++}.txt`);
  fs.writeFileSync(allowedFile, options.allowed ?? '# nothing allowed\n');
  const env = options.standard === false ? { ...standardEnv(), NXBK_E2E_DAEMONS: 'docker-28' } : standardEnv();
  const r = spawnSync('bun', [path.join(repo, 'scripts/tally/main.ts'), ...args, '--allowed-skips', allowedFile], { encoding: 'utf8', env });
  const lines = r.stdout.trim().split('\n');
  return { lines, last: lines.at(-1)!, status: r.status };
}

const passing = `import { test } from 'bun:test';\ntest('passes', () => {});\n`;
const scenarioFile = (body: string) => `
import { describeScenarios } from '${repo}/e2e/support/scenario-suites';
import { skip } from '${repo}/e2e/support/skip';
import assert from 'node:assert/strict';
describeScenarios([
  { name: 'a passing scenario', perDaemon: false, async run() { assert.equal(1, 1); } },
  { name: 'the scenario under test', perDaemon: false, async run() { ${body} } },
], { timeout: 10_000 });
`;
const nodeRunner = (body: string, timeout = 10_000, after = '') => `
import { ScenarioRunner } from '${repo}/e2e/node/scenario-runner';
import { skip } from '${repo}/e2e/support/skip';
import assert from 'node:assert/strict';
const runner = new ScenarioRunner();
runner.catchStrayErrors();
await runner.run('a passing scenario', 10_000, async () => { assert.equal(1, 1); });
await runner.run('the scenario under test', ${timeout}, async () => { ${body} });
${after}
console.log(runner.tallyLine());
process.exit(runner.tally.failed > 0 ? 1 : 0);
`;

describe('the tally of bun test', () => {
  test('a test file with a syntax error at load is one failure, though its tests are in no report', () => {
    const r = tally(bunRun({ 'ok.test.ts': passing, 'broken.test.ts': `import { test } from 'bun:test';\ntest('never runs', () => {\n  const x = ;\n});\n` }));
    expect(r.last).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
    expect(r.lines.join('\n')).toContain('outside any test');
  });

  test('a describe body that throws is one failure', () => {
    const r = tally(bunRun({ 'ok.test.ts': passing, 'describe.test.ts': `import { describe, test } from 'bun:test';\ndescribe('block', () => { test('a', () => {}); throw new Error('boom'); });\n` }));
    expect(r.last).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  test('a failing scenario is one failure', () => {
    const r = tally(bunRun({ 'scenarios.test.ts': scenarioFile(`assert.equal('cached', 're-ran');`) }));
    expect(r.last).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  test('a scenario that calls skip(): skipped for Bun, a failure in the standard run unless allowed, reported by name elsewhere', () => {
    const args = bunRun({ 'scenarios.test.ts': scenarioFile(`await new Promise((r) => setTimeout(r, 10)); skip('no registry here');`) });
    const standard = tally(args);
    expect(standard.last).toBe('1 passed, 1 failed, 0 skipped');
    expect(standard.status).toBe(1);
    expect(standard.lines).toContain('  failed: skipped in the standard run and not in e2e/allowed-skips.txt: the scenario under test (no registry here)');

    const allowed = tally(args, { allowed: '# header\nthe scenario * :: the registry is not part of this fixture\n' });
    expect(allowed.last).toBe('1 passed, 0 failed, 1 skipped');
    expect(allowed.status).toBe(0);

    const other = tally(args, { standard: false });
    expect(other.last).toBe('1 passed, 0 failed, 1 skipped');
    expect(other.status).toBe(0);
    expect(other.lines).toContain('  skipped: the scenario under test (no registry here)');
  });

  test('a report that cannot be read fails the stage', () => {
    const args = bunRun({ 'ok.test.ts': passing });
    fs.writeFileSync(args[1]!, '<testsuites name="bun test" tests="1">'); // no failures/skipped counts
    const r = tally(args);
    expect(r.last).toBe('0 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
    fs.rmSync(args[1]!);
    expect(tally(args).last).toBe('0 passed, 1 failed, 0 skipped');
  });

  test('a non-zero exit without a failing test is a failure; so is a summary that disagrees with the report', () => {
    const junit = '<testsuites tests="1" failures="0" skipped="0"><testsuite name="a.test.ts" file="a.test.ts"><testcase name="t" /></testsuite></testsuites>';
    const log = ' 1 pass\n 0 fail\nRan 1 test across 1 file. [1.00ms]\n';
    expect(bunStage({ junit, log, exitCode: 0 })).toMatchObject({ passed: 1, failed: 0, problems: [] });
    expect(bunStage({ junit, log, exitCode: 1 })).toMatchObject({ passed: 1, failed: 1 });
    expect(bunStage({ junit, log: ' 2 pass\n 0 fail\nRan 2 tests across 1 file.\n', exitCode: 0 })).toMatchObject({ failed: 1 });
    expect(bunStage({ junit, log: 'no summary at all', exitCode: 0 })).toMatchObject({ failed: 1 });
  });
});

describe('the tally of the Node e2e runner', () => {
  test('a failing scenario is one failure', () => {
    const r = tally(nodeRun(nodeRunner(`assert.equal('cached', 're-ran');`)));
    expect(r.last).toBe('1 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
  });

  test('a scenario past its timeout is one failure', () => {
    const r = tally(nodeRun(nodeRunner('await new Promise((r) => setTimeout(r, 60_000));', 200)));
    expect(r.last).toBe('1 passed, 1 failed, 0 skipped');
  });

  test('a scenario that calls skip() is tallied as skipped (a failure in the standard run)', () => {
    const args = nodeRun(nodeRunner(`skip('no private engine: needs root');`));
    expect(tally(args, { standard: false }).last).toBe('1 passed, 0 failed, 1 skipped');
    expect(tally(args).last).toBe('1 passed, 1 failed, 0 skipped');
  });

  test('an error no scenario awaits is one failure, named after the scenario running when it surfaced, and the run goes on to its tally', () => {
    const leaves = `setTimeout(() => { Promise.reject(new Error('late failure')); }, 5);`;
    const next = `await runner.run('a scenario after it', 10_000, async () => { await new Promise((r) => setTimeout(r, 50)); });`;
    const args = nodeRun(nodeRunner(leaves, 10_000, next));
    const r = tally(args);
    expect(r.last).toBe('3 passed, 1 failed, 0 skipped');
    expect(r.status).toBe(1);
    const log = fs.readFileSync(args[1]!, 'utf8');
    expect(log).toContain('not ok - [node] an error no scenario awaited, during or after: a scenario after it');
    expect(log).toContain('late failure');
  });

  test('a run that ends before its tally line, or whose lines disagree with it, fails', () => {
    const r = tally(nodeRun(nodeRunner(`process.exit(0);`)));
    expect(r.last).toBe('0 passed, 1 failed, 0 skipped');
    expect(nodeStage({ log: 'ok - [node] a (1 ms)\nnode-e2e-tally passed=2 failed=0 skipped=0', exitCode: 0 })).toMatchObject({ failed: 1 });
    expect(nodeStage({ log: 'ok - [node] a (1 ms)\nnode-e2e-tally passed=1 failed=0 skipped=0', exitCode: 3 })).toMatchObject({ passed: 1, failed: 1 });
  });
});

describe('one-command stages (typecheck, the example job)', () => {
  test('a non-zero exit is one failure; a stage that could not run is one skip, a failure in the standard run', () => {
    expect(tally(['--typecheck', '0', '--stage', 'example job on buildkitd', '0']).last).toBe('2 passed, 0 failed, 0 skipped');
    const failed = tally(['--stage', 'example job on buildkitd', '2']);
    expect(failed.last).toBe('0 passed, 1 failed, 0 skipped');
    expect(failed.lines).toContain('  failed: exited 2');
    expect(tally(['--skipped-stage', 'example job on buildkitd', 'no buildkitd running'], { standard: false }).last).toBe('0 passed, 0 failed, 1 skipped');
    expect(tally(['--skipped-stage', 'example job on buildkitd', 'no buildkitd running']).last).toBe('0 passed, 1 failed, 0 skipped');
  });
});

describe('e2e/allowed-skips.txt', () => {
  test('the file of this repository parses, and a line without a reason is refused', () => {
    expect(() => parseAllowedSkips(fs.readFileSync(path.join(repo, 'e2e/allowed-skips.txt'), 'utf8'))).not.toThrow();
    expect(() => parseAllowedSkips('docker-28c (*) > some scenario ::  \n')).toThrow(/:1: expected "<test name pattern> :: <reason>"/);
  });
});
