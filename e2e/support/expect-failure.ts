import assert from 'node:assert/strict';
import { describeError } from '../../plugin/buildkit/index';

/** Await `p`, which must reject; returns the error and how long it took. */
export async function rejection(p: Promise<unknown>): Promise<{ error: Error; ms: number }> {
  const start = Date.now();
  try {
    await p;
  } catch (error) {
    return { error: error as Error, ms: Date.now() - start };
  }
  assert.fail('expected the operation to fail');
}

/** Await `p`, which must reject; returns the error. */
export async function failure(p: Promise<unknown>): Promise<Error> {
  return (await rejection(p)).error;
}

/** An error as the executor prints it: the target it belongs to, the message, the daemon's source lines. */
export function printed(error: unknown): string {
  return describeError(error, { withTarget: true });
}
