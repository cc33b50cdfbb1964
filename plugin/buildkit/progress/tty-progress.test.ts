import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import type { SolveStatus, VertexUpdate } from '../control/types';
import { registerSecret } from '../redact';
import { TtyProgress, type LiveRegion } from './tty-progress';

const status = (vertexes: VertexUpdate[]): SolveStatus => ({ vertexes, statuses: [], logs: [], warnings: [] });
const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);

/** A region that records what a terminal would show: persisted lines, then the live ones. */
function fakeRegion() {
  const persisted: string[] = [];
  let live = '';
  let done = false;
  const region: LiveRegion = {
    update: (text) => void (live = text),
    persist: (text) => void persisted.push(text),
    done: () => void (done = true),
  };
  return { region, persisted, live: () => live, isDone: () => done };
}

describe('TtyProgress', () => {
  test('one live line per running target with its current step, a footer counting the rest', () => {
    let clock = 1_000;
    const r = fakeRegion();
    const p = new TtyProgress(r.region, ['api', 'web', 'db'], { now: () => clock, intervalMs: 0 });
    expect(r.live()).toBe('nx-buildkit: 0 running, 3 waiting, 0 done (0.0s)');
    p.update('api', status([
      { digest: 'a', inputs: [], name: '[1/2] FROM base', cached: true, started: t(1), completed: t(1) },
      { digest: 'b', inputs: [], name: '[2/2] RUN make', cached: false, started: t(2) },
    ]));
    clock += 2_500;
    p.update('web', status([{ digest: 'c', inputs: [], name: 'load build definition', cached: false }]));
    expect(r.live().split('\n')).toEqual([
      '[api] [1/2] [2/2] RUN make 2.5s',
      '[web] [0/1] waiting for the builder 0.0s',
      'nx-buildkit: 2 running, 1 waiting, 0 done (2.5s)',
    ]);
  });

  test('a finished target prints its summary line above the view and leaves the live lines', () => {
    let clock = 0;
    const r = fakeRegion();
    const p = new TtyProgress(r.region, ['api', 'web'], { now: () => clock, intervalMs: 0 });
    p.update('api', status([{ digest: 'a', inputs: [], name: 'RUN x', cached: false, started: t(1) }]));
    p.update('web', status([]));
    clock = 4_000;
    p.finish('api', 'success', 'built api:latest (sha256:abc)');
    p.finish('web', 'failure', 'failed: exit code 1\nmore detail');
    expect(r.persisted).toEqual(['[api] done 4.0s: built api:latest (sha256:abc)', '[web] FAILED 4.0s: failed: exit code 1']);
    expect(r.live()).toBe('nx-buildkit: 0 running, 0 waiting, 1 done, 1 failed (4.0s)');
    p.message('nx-buildkit: 2 image(s) in one run');
    expect(r.persisted.at(-1)).toBe('nx-buildkit: 2 image(s) in one run');
    p.close();
    expect(r.isDone()).toBe(true);
  });

  test('lines are cut to the terminal width, control characters cannot move the cursor, secrets are redacted before the cut', () => {
    const secret = `tty-${randomBytes(8).toString('hex')}`;
    registerSecret(secret);
    const r = fakeRegion();
    const p = new TtyProgress(r.region, ['api'], { now: () => 0, width: () => 40, intervalMs: 0 });
    p.update('api', status([{ digest: 'a', inputs: [], name: `RUN echo ${secret} \x1b[2J and a long tail of text`, cached: false, started: t(1) }]));
    const [line] = r.live().split('\n');
    expect(line).toBe('[api] [0/1] RUN echo <redacted>  [2J a…');
    expect(Array.from(line!).length).toBe(39);
    p.note('api', `retrying: ${secret}`);
    p.finish('api', 'failure', `boom ${secret}`);
    expect(r.persisted.join('\n')).not.toContain(secret);
  });

  test('the redraw timer updates elapsed times and stops on close', async () => {
    let clock = 0;
    const r = fakeRegion();
    const p = new TtyProgress(r.region, ['api'], { now: () => clock, intervalMs: 5 });
    p.update('api', status([]));
    clock = 1_500;
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(r.live()).toContain('[api] [0/0] starting 1.5s');
    p.close();
    const after = r.live();
    clock = 9_000;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(r.live()).toBe(after);
  });
});
