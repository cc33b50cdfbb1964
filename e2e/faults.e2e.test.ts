import { describe, test } from 'bun:test';
import { faultScenarios } from './scenarios/faults';
import { e2eEnvironment } from './support/daemons';

const env = e2eEnvironment();

// Scenarios with a private engine or a fixed daemon run once; the others on every daemon (sessions over Control/Session).
describe('multi-target engine under faults', () => {
  for (const scenario of faultScenarios.filter((s) => !s.perDaemon)) {
    test(scenario.name, () => scenario.run({ daemon: env.daemons[0]!, transport: 'grpc' }), 180_000);
  }
});
for (const daemon of env.daemons) {
  describe(`${daemon.name} (engine faults)`, () => {
    for (const scenario of faultScenarios.filter((s) => s.perDaemon)) {
      test(scenario.name, () => scenario.run({ daemon, transport: 'grpc' }), 120_000);
    }
  });
}
