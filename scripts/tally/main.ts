/**
 * The tally of scripts/test-all.sh: reads what each stage left behind and
 * prints, per stage, its counts, why it failed beyond its failing tests and
 * what it skipped, then the final line `N passed, N failed, N skipped`.
 * Exits non-zero when anything failed.
 *
 *   bun scripts/tally/main.ts [--typecheck <exit>] [--bun <junit.xml> <bun.log> <exit>]
 *                             [--node <node.log> <exit>] [--stage <name> <exit>]
 *                             [--skipped-stage <name> <reason>] [--allowed-skips <file>]
 *
 * A standard run (neither NXBK_E2E_BUILDER nor NXBK_E2E_DAEMONS set) fails
 * for every skip that the allowed-skips file (default e2e/allowed-skips.txt) does not name.
 */
import fs from 'node:fs';
import { judgeSkips, parseAllowedSkips, type AllowedSkip } from './allowed-skips';
import { bunStage } from './bun-stage';
import { nodeStage } from './node-stage';
import { commandStage, finalLine, skippedStage, unreadableStage, type StageResult } from './stage-result';

const read = (file: string) => (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined);
const exitStatus = (value: string | undefined) => (value !== undefined && /^\d+$/.test(value) ? Number(value) : 1);

const args = process.argv.slice(2);
const stages: StageResult[] = [];
let allowedFile = 'e2e/allowed-skips.txt';
for (let i = 0; i < args.length; i++) {
  const flag = args[i];
  if (flag === '--typecheck') {
    stages.push(commandStage('typecheck', exitStatus(args[++i])));
  } else if (flag === '--stage') {
    const [name, code] = [args[++i]!, args[++i]];
    stages.push(commandStage(name, exitStatus(code)));
  } else if (flag === '--skipped-stage') {
    const [name, reason] = [args[++i]!, args[++i]!];
    stages.push(skippedStage(name, reason));
  } else if (flag === '--bun') {
    const [junit, log, code] = [args[++i]!, args[++i]!, args[++i]];
    stages.push(bunStage({ junit: read(junit), log: read(log) ?? '', exitCode: exitStatus(code) }));
  } else if (flag === '--node') {
    const [log, code] = [args[++i]!, args[++i]];
    stages.push(nodeStage({ log: read(log) ?? '', exitCode: exitStatus(code) }));
  } else if (flag === '--allowed-skips') {
    allowedFile = args[++i]!;
  } else {
    stages.push(unreadableStage('tally', `unknown argument ${flag}`));
  }
}

const standardRun = !process.env.NXBK_E2E_BUILDER && !process.env.NXBK_E2E_DAEMONS;
let allowed: AllowedSkip[] = [];
try {
  allowed = parseAllowedSkips(read(allowedFile) ?? '', allowedFile);
} catch (error) {
  stages.push(unreadableStage('allowed skips', (error as Error).message));
}

const judged = stages.map((s) => judgeSkips(s, allowed, standardRun));
for (const s of judged) {
  console.log(`${s.stage}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped`);
  for (const p of s.problems) console.log(`  failed: ${p}`);
  for (const k of s.skips) console.log(`  skipped: ${k.name}${k.reason ? ` (${k.reason})` : ''}`);
}
if (!standardRun && judged.some((s) => s.skipped > 0)) console.log('(not the standard run: NXBK_E2E_BUILDER or NXBK_E2E_DAEMONS is set, so its skips are reported, not failed)');
console.log(finalLine(judged));
process.exitCode = judged.some((s) => s.failed > 0) ? 1 : 0;
