import { describe, test } from 'bun:test';
import { contentStoreScenarios } from './scenarios/content-store';
import { e2eEnvironment, sessionTransports } from './support/daemons';

const env = e2eEnvironment();
// Two solves and a 2 MB root filesystem per import scenario.
const timeout = 120_000;

for (const scenario of contentStoreScenarios.filter((s) => !s.perDaemon)) {
  test(scenario.name, () => scenario.run({ daemon: env.daemons[0]!, transport: 'grpc' }), timeout);
}

for (const daemon of env.daemons) {
  for (const transport of sessionTransports(daemon)) {
    describe(`${daemon.name} (sessions over ${transport === 'grpc' ? 'Control/Session' : 'Docker /session'})`, () => {
      for (const scenario of contentStoreScenarios.filter((s) => s.perDaemon)) {
        test(scenario.name, () => scenario.run({ daemon, transport }), timeout);
      }
    });
  }
}
