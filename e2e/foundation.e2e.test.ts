import { describe, test } from 'bun:test';
import { foundationScenarios } from './scenarios/foundation';
import { e2eEnvironment, sessionTransports } from './support/daemons';

const env = e2eEnvironment();
const timeout = 60_000;

for (const scenario of foundationScenarios.filter((s) => !s.perDaemon)) {
  test(scenario.name, () => scenario.run({ daemon: env.daemons[0]!, transport: 'grpc' }), timeout);
}

for (const daemon of env.daemons) {
  for (const transport of sessionTransports(daemon, 'all')) {
    describe(`${daemon.name} (sessions over ${transport === 'grpc' ? 'Control/Session' : 'Docker /session'})`, () => {
      for (const scenario of foundationScenarios.filter((s) => s.perDaemon)) {
        test(scenario.name, () => scenario.run({ daemon, transport }), timeout);
      }
    });
  }
}
