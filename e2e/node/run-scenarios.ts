/**
 * Runs the e2e scenarios under Node (the bun test files run the same
 * scenarios under Bun). Built with `bun build --target=node` by
 * scripts/test-all.sh; prints one TAP-like line per scenario
 * (`ok - [node] …`, `not ok - [node] …`, `ok - [node] … # SKIP <reason>`)
 * and a machine-readable tally as the last line, which the tally
 * (scripts/tally/node-stage.ts) checks against those lines.
 */
import { foundationScenarios } from '../scenarios/foundation';
import type { Scenario } from '../scenarios/foundation';
import { secretsSshScenarios } from '../scenarios/secrets-ssh';
import { authScenarios } from '../scenarios/auth';
import { dockerfileBuildScenarios } from '../scenarios/dockerfile-build';
import { filesyncScenarios } from '../scenarios/filesync';
import { contentStoreScenarios } from '../scenarios/content-store';
import { sharedSessionScenarios } from '../scenarios/shared-sessions';
import { dockerfileOptionsScenarios } from '../scenarios/dockerfile-options';
import { faultScenarios } from '../scenarios/faults';
import { contextSafetyScenarios } from '../scenarios/context-safety';
import { imageLinkScenarios } from '../scenarios/image-links';
import { e2eEnvironment, sessionTransports } from '../support/daemons';
import { ScenarioRunner } from './scenario-runner';

/** A scenario list with the per-test timeouts of its `*.e2e.test.ts` (`once`: the scenarios that run once). */
interface Suite {
  scenarios: Scenario[];
  timeout: number;
  onceTimeout?: number;
}

const suites: Suite[] = [
  { scenarios: foundationScenarios, timeout: 60_000 },
  { scenarios: secretsSshScenarios, timeout: 60_000 },
  { scenarios: authScenarios, timeout: 60_000 },
  { scenarios: dockerfileBuildScenarios, timeout: 60_000 },
  { scenarios: filesyncScenarios, timeout: 120_000 },
  { scenarios: contentStoreScenarios, timeout: 120_000 },
  { scenarios: sharedSessionScenarios, timeout: 120_000 },
  { scenarios: dockerfileOptionsScenarios, timeout: 120_000 },
  { scenarios: faultScenarios, timeout: 120_000, onceTimeout: 180_000 },
  { scenarios: imageLinkScenarios, timeout: 120_000 },
  { scenarios: contextSafetyScenarios, timeout: 120_000 },
];
const env = e2eEnvironment();
const runner = new ScenarioRunner();
runner.catchStrayErrors();
// NXBK_NODE_E2E_FILTER (a regular expression) runs only the scenarios whose title matches, like `bun test -t`.
const only = process.env.NXBK_NODE_E2E_FILTER ? new RegExp(process.env.NXBK_NODE_E2E_FILTER) : undefined;
const run = (title: string, timeout: number, fn: () => Promise<void>) => (only && !only.test(title) ? Promise.resolve() : runner.run(title, timeout, fn));

// Under Node: the foundation suite on every daemon and transport; the feature
// suites on the newest and the oldest Docker engine and on every standalone
// buildkitd (Bun runs all of them everywhere). NXBK_NODE_E2E_ALL=1 runs
// everything here too.
const everywhere = process.env.NXBK_NODE_E2E_ALL === '1';
const engines = env.daemons.filter((d) => d.kind === 'docker');
const newestAndOldest = env.daemons.filter((d) => d.kind !== 'docker' || d === engines[0] || d === engines[engines.length - 1]);
for (const { scenarios, timeout, onceTimeout } of suites) {
  const foundation = scenarios === foundationScenarios;
  for (const s of scenarios.filter((x) => !x.perDaemon)) await run(s.name, onceTimeout ?? timeout, () => s.run({ daemon: env.daemons[0]!, transport: 'grpc' }));
  for (const daemon of foundation || everywhere ? env.daemons : newestAndOldest) {
    for (const transport of sessionTransports(daemon, foundation ? 'all' : 'feature')) {
      for (const s of scenarios.filter((x) => x.perDaemon)) await run(`${daemon.name} (${transport}) > ${s.name}`, timeout, () => s.run({ daemon, transport }));
    }
  }
}
console.log(runner.tallyLine());
// A scenario that timed out may still hold sockets or timers: the tally is printed, so end here.
process.exit(runner.tally.failed > 0 ? 1 : 0);
