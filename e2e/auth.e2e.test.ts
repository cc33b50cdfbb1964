import { describe, test } from 'bun:test';
import { authScenarios, authSkipReason } from './scenarios/auth';
import { e2eEnvironment, sessionTransports } from './support/daemons';

const env = e2eEnvironment();
const timeout = 60_000;

if (authSkipReason) test.skip(`registry auth: ${authSkipReason}`, () => {});

for (const daemon of env.daemons) {
  for (const transport of sessionTransports(daemon)) {
    describe(`${daemon.name} (sessions over ${transport === 'grpc' ? 'Control/Session' : 'Docker /session'})`, () => {
      for (const scenario of authScenarios.filter((s) => s.perDaemon)) {
        test(scenario.name, () => scenario.run({ daemon, transport }), timeout);
      }
    });
  }
}
