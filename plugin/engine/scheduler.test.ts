import { describe, expect, test } from 'bun:test';
import { schedule, type ScheduledTask } from './scheduler';

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      reject(new Error('aborted'));
    });
  });

describe('scheduler', () => {
  test('never runs more than the concurrency limit, and runs everything', async () => {
    let active = 0;
    let peak = 0;
    const tasks: ScheduledTask[] = Array.from({ length: 10 }, (_, i) => ({ id: `t${i}`, dependsOn: [] }));
    const outcomes = await schedule(tasks, async () => {
      active++;
      peak = Math.max(peak, active);
      await sleep(10);
      active--;
    }, { concurrency: 3, mode: 'keep-going' });
    expect(peak).toBe(3);
    expect(outcomes.every((o) => o.status === 'succeeded')).toBe(true);
  });

  test('a task starts only after its dependencies succeeded', async () => {
    const order: string[] = [];
    await schedule(
      [{ id: 'app', dependsOn: ['base', 'lib'] }, { id: 'lib', dependsOn: ['base'] }, { id: 'base', dependsOn: [] }],
      async (id) => {
        order.push(`start ${id}`);
        await sleep(5);
        order.push(`end ${id}`);
      },
      { concurrency: 4, mode: 'keep-going' },
    );
    expect(order).toEqual(['start base', 'end base', 'start lib', 'end lib', 'start app', 'end app']);
  });

  test('keep-going: independent tasks finish, dependants of a failure are skipped', async () => {
    const outcomes = await schedule(
      [{ id: 'bad', dependsOn: [] }, { id: 'child', dependsOn: ['bad'] }, { id: 'grandchild', dependsOn: ['child'] }, { id: 'other', dependsOn: [] }],
      async (id) => {
        await sleep(id === 'other' ? 30 : 1);
        if (id === 'bad') throw new Error('boom');
      },
      { concurrency: 2, mode: 'keep-going' },
    );
    expect(Object.fromEntries(outcomes.map((o) => [o.id, o.status]))).toEqual({ bad: 'failed', child: 'skipped', grandchild: 'skipped', other: 'succeeded' });
    expect(outcomes.find((o) => o.id === 'grandchild')).toMatchObject({ reason: 'dependency child skipped' });
  });

  test('fail-fast: the first failure cancels running tasks and skips waiting ones', async () => {
    const outcomes = await schedule(
      [{ id: 'bad', dependsOn: [] }, { id: 'slow', dependsOn: [] }, { id: 'later', dependsOn: [] }],
      async (id, signal) => {
        if (id === 'bad') throw new Error('boom');
        await sleep(1_000, signal);
      },
      { concurrency: 2, mode: 'fail-fast' },
    );
    expect(Object.fromEntries(outcomes.map((o) => [o.id, o.status]))).toEqual({ bad: 'failed', slow: 'cancelled', later: 'skipped' });
  });

  test("the caller's signal cancels running tasks and skips the rest", async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 20);
    const started = Date.now();
    const outcomes = await schedule(
      [{ id: 'a', dependsOn: [] }, { id: 'b', dependsOn: ['a'] }],
      (_id, signal) => sleep(5_000, signal),
      { concurrency: 1, mode: 'keep-going', signal: controller.signal },
    );
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(outcomes.map((o) => o.status)).toEqual(['cancelled', 'skipped']);
  });

  test('cycles and unknown dependencies are rejected', async () => {
    await expect(schedule([{ id: 'a', dependsOn: ['b'] }, { id: 'b', dependsOn: ['a'] }], async () => {}, { concurrency: 1, mode: 'fail-fast' })).rejects.toThrow('dependency cycle');
    await expect(schedule([{ id: 'a', dependsOn: ['x'] }], async () => {}, { concurrency: 1, mode: 'fail-fast' })).rejects.toThrow('unknown task x');
  });
});

describe('scheduler with a start gate', () => {
  test('a gated task waits while a conflicting one runs, later tasks take its slot, and it starts when the gate opens', async () => {
    const conflicts: Record<string, string[]> = { a1: ['b1'], a2: ['b1'], b1: ['a1', 'a2'] };
    const active = new Set<string>();
    const listeners = new Set<() => void>();
    const gate = {
      canStart: (id: string) => !(conflicts[id] ?? []).some((c) => active.has(c)),
      onChange: (l: () => void) => (listeners.add(l), () => listeners.delete(l)),
    };
    const log: string[] = [];
    await schedule(
      [{ id: 'a1', dependsOn: [] }, { id: 'b1', dependsOn: [] }, { id: 'a2', dependsOn: [] }, { id: 'c', dependsOn: [] }],
      async (id) => {
        log.push(`start ${id}`);
        await sleep(id === 'a1' ? 20 : 5);
        log.push(`end ${id}`);
        active.delete(id);
        for (const l of listeners) l();
      },
      { concurrency: 4, mode: 'keep-going', gate, onStart: (id) => active.add(id) },
    );
    expect(log.slice(0, 3)).toEqual(['start a1', 'start a2', 'start c']);
    const b1 = log.indexOf('start b1');
    expect(b1).toBeGreaterThan(log.indexOf('end a1'));
    expect(b1).toBeGreaterThan(log.indexOf('end a2'));
  });
});
