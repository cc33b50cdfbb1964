/**
 * A scenario that cannot run here says so: `skip(reason)` from its body
 * ends it as skipped, never as passed. Both runners report it that way
 * (bun:test through e2e/support/scenario-suites.ts, Node through
 * e2e/node/run-scenarios.ts), with the reason on a line of its own:
 *
 *   skipped: <full test name>: <reason>
 *
 * The standard run (every local daemon, no NXBK_E2E_BUILDER or
 * NXBK_E2E_DAEMONS) must have no skips: scripts/test-all.sh fails it for
 * any skip that e2e/allowed-skips.txt does not list.
 */

/** Thrown by {@link skip}; the runners turn it into a skipped test. */
export class ScenarioSkipped extends Error {
  constructor(readonly reason: string) {
    super(`skipped: ${reason}`);
    this.name = 'ScenarioSkipped';
  }
}

/** End the running scenario as skipped, for `reason` (say what is missing and where it would come from). */
export function skip(reason: string): never {
  throw new ScenarioSkipped(reason);
}

/** The skip of `error`, if it is one. */
export function skipReasonOf(error: unknown): string | undefined {
  return error instanceof ScenarioSkipped ? error.reason : undefined;
}

/** The line both runners print for a skipped test (the tally reads it back for the reasons). */
export const skipLine = (fullName: string, reason: string) => `skipped: ${fullName}: ${reason}`;
