/**
 * Runs the e2e scenarios under Node (the bun test files run the same
 * scenarios under Bun). Built with `bun build --target=node` by
 * scripts/test-all.sh; prints one line per scenario and a machine-readable
 * tally as the last line.
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

const suites: Scenario[][] = [foundationScenarios, secretsSshScenarios, authScenarios, dockerfileBuildScenarios, filesyncScenarios, contentStoreScenarios, sharedSessionScenarios, dockerfileOptionsScenarios, faultScenarios, imageLinkScenarios, contextSafetyScenarios];
const env = e2eEnvironment();
let passed = 0;
let failed = 0;

async function run(title: string, fn: () => Promise<void>): Promise<void> {
  const start = Date.now();
  try {
    await fn();
    passed++;
    console.log(`ok - [node] ${title} (${Date.now() - start} ms)`);
  } catch (err) {
    failed++;
    console.log(`not ok - [node] ${title}\n  ${String((err as Error)?.stack ?? err).split('\n').join('\n  ')}`);
  }
}

// Under Node: the foundation suite on every daemon and transport; the feature
// suites on the newest and the oldest Docker engine and on every standalone
// buildkitd (Bun runs all of them everywhere). NXBK_NODE_E2E_ALL=1 runs
// everything here too.
const everywhere = process.env.NXBK_NODE_E2E_ALL === '1';
const engines = env.daemons.filter((d) => d.kind === 'docker');
const newestAndOldest = env.daemons.filter((d) => d.kind !== 'docker' || d === engines[0] || d === engines[engines.length - 1]);
for (const scenarios of suites) {
  const foundation = scenarios === foundationScenarios;
  for (const s of scenarios.filter((x) => !x.perDaemon)) await run(s.name, () => s.run({ daemon: env.daemons[0]!, transport: 'grpc' }));
  for (const daemon of foundation || everywhere ? env.daemons : newestAndOldest) {
    for (const transport of sessionTransports(daemon, foundation ? 'all' : 'feature')) {
      for (const s of scenarios.filter((x) => x.perDaemon)) await run(`${daemon.name} (${transport}) > ${s.name}`, () => s.run({ daemon, transport }));
    }
  }
}
console.log(`node-e2e-tally passed=${passed} failed=${failed} runtime=${process.versions.node}`);
process.exitCode = failed > 0 ? 1 : 0;
