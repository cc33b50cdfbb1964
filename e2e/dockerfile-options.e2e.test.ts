import { describe, test } from 'bun:test';
import { dockerfileOptionsScenarios } from './scenarios/dockerfile-options';
import { e2eEnvironment } from './support/daemons';

const env = e2eEnvironment();
const timeout = 120_000;

for (const scenario of dockerfileOptionsScenarios.filter((s) => !s.perDaemon)) {
  test(scenario.name, () => scenario.run({ daemon: env.daemons[0]!, transport: 'grpc' }), timeout);
}

// Sessions over Control/Session only: the Docker /session transport is covered by dockerfile-build.
for (const daemon of env.daemons) {
  describe(`${daemon.name} (sessions over Control/Session)`, () => {
    for (const scenario of dockerfileOptionsScenarios.filter((s) => s.perDaemon)) {
      test(scenario.name, () => scenario.run({ daemon, transport: 'grpc' }), timeout);
    }
  });
}
