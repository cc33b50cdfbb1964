import { describe, expect, test } from 'bun:test';
import { EventQueue } from './event-queue';

async function readAll<T>(queue: EventQueue<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const item of queue) out.push(item);
  return out;
}

describe('EventQueue', () => {
  test('delivers what was pushed before and after the reader started, in order, then ends', async () => {
    const queue = new EventQueue<number>();
    queue.push(1);
    const reading = readAll(queue);
    await Promise.resolve();
    queue.push(2);
    setTimeout(() => {
      queue.push(3);
      queue.end();
      queue.push(4);
    }, 5);
    expect(await reading).toEqual([1, 2, 3]);
  });

  test('an end with an error is thrown after everything pushed before it was read', async () => {
    const queue = new EventQueue<string>();
    queue.push('a');
    queue.end({ reason: new Error('set-up failed') });
    const seen: string[] = [];
    const read = async () => {
      for await (const item of queue) seen.push(item);
    };
    await expect(read()).rejects.toThrow('set-up failed');
    expect(seen).toEqual(['a']);
  });
});
