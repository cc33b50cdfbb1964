import assert from 'node:assert/strict';

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
