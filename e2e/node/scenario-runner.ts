import { skipReasonOf } from '../support/skip';

/** Counts of a Node e2e run. */
export interface NodeTally {
  passed: number;
  failed: number;
  skipped: number;
}

/**
 * Runs scenarios one by one under Node and prints one TAP-like line each:
 * `ok - [node] <title> (<ms> ms)`, `not ok - [node] <title>` with the error
 * indented below, or `ok - [node] <title> # SKIP <reason>` for a scenario that
 * called `skip(reason)`. A scenario still running after `timeout` ms fails
 * (it cannot be stopped from outside, so the caller ends the process once
 * the tally line is printed).
 */
export class ScenarioRunner {
  readonly tally: NodeTally = { passed: 0, failed: 0, skipped: 0 };

  private current = '(before the first scenario)';

  async run(title: string, timeout: number, fn: () => Promise<void>): Promise<void> {
    this.current = title;
    const start = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${timeout} ms`)), timeout);
    });
    try {
      await Promise.race([fn(), deadline]);
      this.tally.passed++;
      console.log(`ok - [node] ${title} (${Date.now() - start} ms)`);
    } catch (err) {
      const reason = skipReasonOf(err);
      if (reason !== undefined) {
        this.tally.skipped++;
        console.log(`ok - [node] ${title} # SKIP ${reason.replace(/\s+/g, ' ')}`);
      } else {
        this.tally.failed++;
        console.log(`not ok - [node] ${title}\n${indentedStack(err)}`);
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * An error no scenario awaited (a rejection or exception that surfaced on
   * its own): one failure, named after the scenario that was running or ran
   * last, so the run goes on and its tally stays whole instead of Node
   * ending the process.
   */
  private stray(err: unknown): void {
    this.tally.failed++;
    console.log(`not ok - [node] an error no scenario awaited, during or after: ${this.current}\n${indentedStack(err)}`);
  }

  /** Count errors that surface on their own (see stray) instead of letting them end the process. */
  catchStrayErrors(): void {
    process.on('unhandledRejection', (reason) => this.stray(reason));
    process.on('uncaughtException', (err) => this.stray(err));
  }

  /** The machine-readable last line scripts/tally/node-stage.ts reads. */
  tallyLine(): string {
    const { passed, failed, skipped } = this.tally;
    return `node-e2e-tally passed=${passed} failed=${failed} skipped=${skipped} runtime=${process.versions.node}`;
  }
}

/** An error's stack (or the value itself), indented under its `not ok` line. */
function indentedStack(err: unknown): string {
  return `  ${String((err as Error)?.stack ?? err).split('\n').join('\n  ')}`;
}
