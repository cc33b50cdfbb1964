import { describe, expect, test } from 'bun:test';
import type { SolveStatus, VertexUpdate } from '../control/types';
import { ProgressTracker } from './progress-tracker';

const status = (vertexes: VertexUpdate[], logs: SolveStatus['logs'] = []): SolveStatus => ({ vertexes, statuses: [], logs, warnings: [] });
const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);

describe('ProgressTracker', () => {
  test('merges updates of one digest, later defined fields winning', () => {
    const p = new ProgressTracker();
    p.update(status([{ digest: 'a', inputs: [], name: 'RUN x', cached: false }]));
    p.update(status([{ digest: 'a', inputs: [], name: 'RUN x', cached: false, started: t(1) }]));
    p.update(status([{ digest: 'a', inputs: [], name: 'RUN x', cached: false, started: t(1), completed: t(2), error: 'boom' }]));
    expect(p.vertexes).toEqual([{ digest: 'a', inputs: [], name: 'RUN x', cached: false, started: t(1), completed: t(2), error: 'boom' }]);
    expect(p.failed.map((v) => v.digest)).toEqual(['a']);
  });

  test('a step reported cached stays cached when its lazily pulled result re-reports the digest', () => {
    // The shape BuildKit 0.25 sends for a step whose result comes from an imported registry cache.
    const p = new ProgressTracker();
    p.update(status([{ digest: 'run', inputs: [], name: 'RUN x', cached: false }]));
    p.update(status([{ digest: 'run', inputs: [], name: 'RUN x', cached: true, started: t(1), completed: t(1) }]));
    p.update(status([{ digest: 'run', inputs: [], name: 'RUN x', cached: false, started: t(2) }]));
    p.update(status([{ digest: 'run', inputs: [], name: 'RUN x', cached: false, started: t(2), completed: t(3) }]));
    expect(p.vertexes[0]!.cached).toBe(true);
    expect(p.vertexes[0]!.completed).toEqual(t(3));
  });

  test('a step that ran is not cached', () => {
    const p = new ProgressTracker();
    p.update(status([{ digest: 'run', inputs: [], name: 'RUN x', cached: false, started: t(1), completed: t(2) }]));
    expect(p.vertexes[0]!.cached).toBe(false);
  });

  test('collects logs per vertex', () => {
    const p = new ProgressTracker();
    p.update(status([], [{ vertex: 'a', stream: 1, data: Buffer.from('one\n') }, { vertex: 'b', stream: 2, data: Buffer.from('other\n') }]));
    p.update(status([], [{ vertex: 'a', stream: 2, data: Buffer.from('two\n') }]));
    expect(p.logsOf('a')).toBe('one\ntwo\n');
  });
});
