import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import type { SolveStatus, VertexUpdate } from '../control/types';
import { registerSecret } from '../redact';
import { JsonProgress, type JsonProgressEvent } from './json-progress';

const status = (vertexes: VertexUpdate[], logs: SolveStatus['logs'] = [], warnings: SolveStatus['warnings'] = []): SolveStatus => ({ vertexes, statuses: [], logs, warnings });
const t = (s: number) => new Date(1_700_000_000_000 + s * 1000);

function collect(target = 'api') {
  const lines: string[] = [];
  const p = new JsonProgress(target, (l) => lines.push(l), () => t(100));
  return { p, lines, events: () => lines.map((l) => JSON.parse(l) as JsonProgressEvent) };
}

describe('JsonProgress', () => {
  test('one event per state change of a step, with target, step number and times', () => {
    const { p, events } = collect();
    p.update(status([{ digest: 'sha256:a', inputs: [], name: 'RUN x', cached: false }]));
    p.update(status([{ digest: 'sha256:a', inputs: [], name: 'RUN x', cached: false, started: t(1) }]));
    p.update(status([{ digest: 'sha256:a', inputs: [], name: 'RUN x', cached: false, started: t(1) }]));
    p.update(status([{ digest: 'sha256:a', inputs: [], name: 'RUN x', cached: false, started: t(1), completed: t(3) }]));
    p.update(status([{ digest: 'sha256:b', inputs: [], name: 'FROM base', cached: true, started: t(1), completed: t(1) }]));
    p.update(status([{ digest: 'sha256:c', inputs: [], name: 'RUN false', cached: false, started: t(2), completed: t(2), error: 'exit code: 1' }]));
    expect(events()).toEqual([
      { time: t(100).toISOString(), target: 'api', type: 'vertex', vertex: 'sha256:a', step: 1, name: 'RUN x', status: 'started', started: t(1).toISOString() },
      { time: t(100).toISOString(), target: 'api', type: 'vertex', vertex: 'sha256:a', step: 1, name: 'RUN x', status: 'completed', started: t(1).toISOString(), completed: t(3).toISOString() },
      { time: t(100).toISOString(), target: 'api', type: 'vertex', vertex: 'sha256:b', step: 2, name: 'FROM base', status: 'cached', started: t(1).toISOString(), completed: t(1).toISOString() },
      { time: t(100).toISOString(), target: 'api', type: 'vertex', vertex: 'sha256:c', step: 3, name: 'RUN false', status: 'error', started: t(2).toISOString(), completed: t(2).toISOString(), error: 'exit code: 1' },
    ]);
  });

  test('logs are whole lines of text per stream; a step that ends flushes its unfinished line', () => {
    const { p, events } = collect();
    p.update(status([{ digest: 'v', inputs: [], name: 'RUN echo', cached: false, started: t(1) }], [
      { vertex: 'v', stream: 1, data: Buffer.from('hel') },
      { vertex: 'v', stream: 2, data: Buffer.from('warn\n') },
    ]));
    p.update(status([], [{ vertex: 'v', stream: 1, data: Buffer.from('lo\nlast') }]));
    p.update(status([{ digest: 'v', inputs: [], name: 'RUN echo', cached: false, started: t(1), completed: t(2) }]));
    const logs = events().filter((e) => e.type === 'log').map((e) => [e.stream, e.text, e.step]);
    expect(logs).toEqual([['stderr', 'warn', 1], ['stdout', 'hello', 1], ['stdout', 'last', 1]]);
    expect(events().at(-1)).toMatchObject({ type: 'vertex', status: 'completed' });
  });

  test('a secret split across chunks, in step names, errors, warnings and notes never appears; every line stays JSON', () => {
    const secret = `s3cr"et\\${randomBytes(6).toString('hex')}`;
    registerSecret(secret);
    const { p, lines, events } = collect();
    const half = Math.floor(secret.length / 2);
    p.update(status(
      [{ digest: 'v', inputs: [], name: `RUN echo ${secret}`, cached: false, started: t(1), completed: t(2), error: `failed: ${secret}` }],
      [{ vertex: 'v', stream: 1, data: Buffer.from(`x ${secret.slice(0, half)}`) }, { vertex: 'v', stream: 1, data: Buffer.from(`${secret.slice(half)} y\n`) }],
      [{ vertex: 'v', level: 1, short: `warned ${secret}`, detail: [], url: '' }],
    ));
    p.note(`retrying: ${secret}`);
    p.result('failure', `failed: ${secret}`);
    const all = lines.join('\n');
    expect(all).not.toContain(secret);
    expect(all).not.toContain(JSON.stringify(secret).slice(1, -1));
    expect(events().find((e) => e.type === 'log')!.text).toBe('x <redacted> y');
    expect(events().map((e) => e.type)).toEqual(['vertex', 'log', 'warning', 'message', 'result']);
  });

  test('run-level events have target null', () => {
    const { p, events } = collect(null as unknown as string);
    p.note('summary');
    expect(events()[0]).toMatchObject({ target: null, type: 'message', text: 'summary' });
  });
});
