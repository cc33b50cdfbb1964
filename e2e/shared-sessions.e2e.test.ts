import { describe, test } from 'bun:test';
import { sharedSessionScenarios } from './scenarios/shared-sessions';
import { e2eEnvironment } from './support/daemons';

const env = e2eEnvironment();

// The engine's sessions go over Control/Session; the Docker /session transport is covered by the foundation suite.
for (const daemon of env.daemons) {
  describe(`${daemon.name} (multi-target engine)`, () => {
    for (const scenario of sharedSessionScenarios) {
      test(scenario.name, () => scenario.run({ daemon, transport: 'grpc' }), 120_000);
    }
  });
}
