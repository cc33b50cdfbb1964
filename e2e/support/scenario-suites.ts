import { describe } from 'bun:test';
// node:test's tests, which Bun runs as its own, can end as skipped at run time (`t.skip()`); bun:test's cannot.
import { test, type TestContext } from 'node:test';
import type { Scenario, ScenarioContext } from '../scenarios/foundation';
import { e2eEnvironment, sessionTransports, type E2eDaemon } from './daemons';
import { skipLine, skipReasonOf } from './skip';

/** How {@link describeScenarios} registers a scenario list. */
export interface ScenarioSuiteOptions {
  /** Per test. */
  timeout: number;
  /**
   * Session transports per daemon: `grpc` (Control/Session only, the
   * default here; the client's default on Docker engines is /session), or `feature`/`all` as
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
    for (const scenario of single) register(scenario, { daemon: env.daemons[0]!, transport: 'grpc' }, once.timeout ?? timeout, once.title);
  };
  if (single.length > 0) {
    if (once.title) describe(once.title, registerOnce);
    else registerOnce();
  }
  const perDaemon = scenarios.filter((s) => s.perDaemon);
  for (const daemon of env.daemons) {
    for (const transport of transportsFor(daemon, transports)) {
      const block = `${daemon.name} (${title ?? `sessions over ${transportLabel(transport)}`})`;
      describe(block, () => {
        for (const scenario of perDaemon) register(scenario, { daemon, transport }, timeout, block);
      });
    }
  }
}

/** One scenario as one test: a {@link skip} in its body ends it as skipped, with the reason printed. */
function register(scenario: Scenario, ctx: ScenarioContext, timeout: number, block: string | undefined): void {
  const fullName = block ? `${block} > ${scenario.name}` : scenario.name;
  test(scenario.name, { timeout }, async (t: TestContext) => {
    try {
      await scenario.run(ctx);
    } catch (error) {
      const reason = skipReasonOf(error);
      if (reason === undefined) throw error;
      console.log(skipLine(fullName, reason));
      t.skip(reason);
    }
  });
}

function transportsFor(daemon: E2eDaemon, transports: NonNullable<ScenarioSuiteOptions['transports']>): Array<'grpc' | 'docker'> {
  return transports === 'grpc' ? ['grpc'] : sessionTransports(daemon, transports);
}
