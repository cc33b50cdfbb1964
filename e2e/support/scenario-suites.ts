import { describe, test } from 'bun:test';
import type { Scenario } from '../scenarios/foundation';
import { e2eEnvironment, sessionTransports, type E2eDaemon } from './daemons';

/** How {@link describeScenarios} registers a scenario list. */
export interface ScenarioSuiteOptions {
  /** Per test. */
  timeout: number;
  /**
   * Session transports per daemon: `grpc` (Control/Session only, the
   * client's default, and the default here), or `feature`/`all` as
   * {@link sessionTransports} picks them.
   */
  transports?: 'grpc' | 'feature' | 'all';
  /** What a daemon's describe block is called after the daemon's name; default: `sessions over <transport>`. */
  title?: string;
  /** Scenarios that do not use a daemon run once, on the first: in a describe block of this title (default: top level), with this timeout (default: `timeout`). */
  once?: { title?: string; timeout?: number };
}

const transportLabel = (t: 'grpc' | 'docker') => (t === 'grpc' ? 'Control/Session' : 'Docker /session');

/**
 * Register a scenario list with bun:test the way every `*.e2e.test.ts`
 * does: `perDaemon` scenarios on every daemon (and session transport),
 * the others once. Bun-only (it registers tests); the Node runner
 * (e2e/node/run-scenarios.ts) walks the same lists its own way.
 */
export function describeScenarios(scenarios: readonly Scenario[], options: ScenarioSuiteOptions): void {
  const env = e2eEnvironment();
  const { timeout, transports = 'grpc', title, once = {} } = options;
  const single = scenarios.filter((s) => !s.perDaemon);
  const registerOnce = () => {
    for (const scenario of single) test(scenario.name, () => scenario.run({ daemon: env.daemons[0]!, transport: 'grpc' }), once.timeout ?? timeout);
  };
  if (single.length > 0) {
    if (once.title) describe(once.title, registerOnce);
    else registerOnce();
  }
  const perDaemon = scenarios.filter((s) => s.perDaemon);
  for (const daemon of env.daemons) {
    for (const transport of transportsFor(daemon, transports)) {
      describe(`${daemon.name} (${title ?? `sessions over ${transportLabel(transport)}`})`, () => {
        for (const scenario of perDaemon) test(scenario.name, () => scenario.run({ daemon, transport }), timeout);
      });
    }
  }
}

function transportsFor(daemon: E2eDaemon, transports: NonNullable<ScenarioSuiteOptions['transports']>): Array<'grpc' | 'docker'> {
  return transports === 'grpc' ? ['grpc'] : sessionTransports(daemon, transports);
}
