import { describe, expect, test } from 'bun:test';
import { taskOutcome } from './task-outcome';

// The lines of `nx run-many -t image --output-style=static` (Nx 24) the benchmark relies on.
const run = (lines: string[]) => lines.join('\n');

describe('taskOutcome', () => {
  test('tasks replayed from the cache and Nx\'s own count', () => {
    const out = run([
      '> nx run img-000:image  [local cache]',
      'nx-buildkit: ...',
      '> nx run img-001:image  [existing outputs match the cache, left as is]',
      '> nx run @scope/lib:image  [remote cache]',
      ' NX   Successfully ran target image for 3 projects',
      'Nx read the output from the cache instead of running the command for 3 out of 3 tasks.',
    ]);
    expect(taskOutcome(out, 'image')).toEqual({ ran: [], cached: ['@scope/lib', 'img-000', 'img-001'], nxCount: { cached: 3, total: 3 } });
  });

  test('a task that ran is told apart, and other targets are not counted', () => {
    const out = run(['> nx run img-000:image', '> nx run img-001:image  [local cache]', '> nx run img-001:image-push', 'Nx read the output from the cache instead of running the command for 1 out of 2 tasks.']);
    expect(taskOutcome(out, 'image')).toEqual({ ran: ['img-000'], cached: ['img-001'], nxCount: { cached: 1, total: 2 } });
  });

  test('no count when Nx printed none', () => {
    expect(taskOutcome('> nx run a:image\n', 'image').nxCount).toBeUndefined();
  });
});
