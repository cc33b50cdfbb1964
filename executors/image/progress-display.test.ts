import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { registerSecret, type SolveStatus } from '../../plugin/buildkit/index';
import { RunDisplay, resolveProgressMode, terminalRegion, type OutputStream } from './progress-display';

const status = (name: string, log?: string): SolveStatus => ({
  vertexes: [{ digest: 'v', inputs: [], name, cached: false, started: new Date(1_000) }],
  statuses: [],
  logs: log ? [{ vertex: 'v', stream: 1, data: Buffer.from(log) }] : [],
  warnings: [],
});

/** A terminal stand-in: records every chunk written. */
function fakeTerminal(isTTY = true): OutputStream & { chunks: string[] } {
  const chunks: string[] = [];
  return { chunks, isTTY, columns: 60, rows: 20, write: (c: string) => chunks.push(c) };
}

describe('resolveProgressMode', () => {
  test('auto is tty on a terminal outside CI, plain otherwise; tty needs a terminal', () => {
    expect(resolveProgressMode('auto', { write() {}, isTTY: true }, {})).toBe('tty');
    expect(resolveProgressMode('auto', { write() {}, isTTY: true }, { CI: 'true' })).toBe('plain');
    expect(resolveProgressMode('auto', { write() {}, isTTY: false }, {})).toBe('plain');
    expect(resolveProgressMode('auto', { write() {}, isTTY: true }, { CI: 'false' })).toBe('tty');
    expect(resolveProgressMode('auto', { write() {}, isTTY: true }, { CI: '0' })).toBe('tty');
    expect(resolveProgressMode('tty', { write() {} }, {})).toBe('plain');
    expect(resolveProgressMode('tty', { write() {}, isTTY: true }, { CI: '1' })).toBe('tty');
    expect(resolveProgressMode('json', { write() {}, isTTY: true }, {})).toBe('json');
    expect(resolveProgressMode('quiet', { write() {}, isTTY: true }, {})).toBe('quiet');
  });
});

describe('RunDisplay', () => {
  test('plain writes prefixed lines; every mode keeps the plain lines as the task log', async () => {
    for (const mode of ['plain', 'json', 'quiet'] as const) {
      const lines: string[] = [];
      const d = await RunDisplay.open(mode, ['api'], { write: (l) => lines.push(l), stream: fakeTerminal(false) });
      const api = d.target('api');
      api.update(status('RUN make', 'hello\n'));
      api.note('built api:latest');
      api.end('success', 'built api:latest');
      d.message('nx-buildkit: 1 image(s) in one run');
      d.close();
      expect(api.lines).toEqual(['[api] #1 RUN make', '[api] #1 hello', '[api] built api:latest']);
      if (mode === 'plain') expect(lines).toEqual([...api.lines, 'nx-buildkit: 1 image(s) in one run']);
      if (mode === 'quiet') expect(lines).toEqual([]);
      if (mode === 'json') {
        const events = lines.map((l) => JSON.parse(l));
        expect(events.map((e) => [e.target, e.type])).toEqual([['api', 'vertex'], ['api', 'log'], ['api', 'message'], ['api', 'result'], [null, 'message']]);
      }
    }
  });

  test('quiet still prints errors', async () => {
    const lines: string[] = [];
    const d = await RunDisplay.open('quiet', ['api'], { write: (l) => lines.push(l), stream: fakeTerminal(false) });
    d.message('summary');
    d.message('the run failed', { error: true });
    expect(lines).toEqual(['the run failed']);
  });

  test('tty draws the live view on the terminal in place with log-update, and nothing goes to the line writer', async () => {
    const term = fakeTerminal();
    const lines: string[] = [];
    const d = await RunDisplay.open('tty', ['api', 'web'], { write: (l) => lines.push(l), stream: term });
    const api = d.target('api');
    api.update(status('[2/2] RUN make'));
    api.update(status('[2/2] RUN make', 'compiling\n'));
    api.end('success', 'built api:latest');
    d.message('nx-buildkit: 2 image(s) in one run');
    d.close();
    const screen = term.chunks.join('');
    expect(lines).toEqual([]);
    expect(screen).toContain('[api] [0/1] [2/2] RUN make');
    expect(screen).toContain('[api] done');
    expect(screen).toContain('nx-buildkit: 2 image(s) in one run');
    // Redraws move the cursor up and erase lines (ESC [ … A / ESC [ 2K) instead of printing the view again below.
    expect(screen).toMatch(/\x1b\[\d*A/);
    expect(screen).toContain('\x1b[2K');
    // The step's own output is not in the view; it stays in the task log.
    expect(screen).not.toContain('compiling');
    expect(api.lines).toContain('[api] #1 compiling');
  });

  test('a secret never reaches the terminal, the json stream or the task log', async () => {
    const secret = `display-${randomBytes(8).toString('hex')}`;
    registerSecret(secret);
    for (const mode of ['plain', 'json', 'tty'] as const) {
      const term = fakeTerminal(mode === 'tty');
      const lines: string[] = [];
      const d = await RunDisplay.open(mode, ['api'], { write: (l) => lines.push(l), stream: term });
      const api = d.target('api');
      api.update(status(`RUN echo ${secret}`, `${secret.slice(0, 5)}`));
      api.update(status(`RUN echo ${secret}`, `${secret.slice(5)}\n`));
      api.note(`retry: ${secret}`);
      api.end('failure', `failed: ${secret}`);
      d.message(`run: ${secret}`);
      d.close();
      const all = [...lines, ...term.chunks, ...api.lines].join('\n');
      expect(all).not.toContain(secret);
      expect(all).toContain('<redacted>');
    }
  });

  test('terminalRegion persists lines above the live ones', async () => {
    const term = fakeTerminal();
    const region = await terminalRegion(term);
    region.update('live one');
    region.persist('kept');
    region.update('live two');
    region.done();
    const screen = term.chunks.join('');
    expect(screen.indexOf('kept')).toBeGreaterThan(screen.indexOf('live one'));
    expect(screen.indexOf('live two')).toBeGreaterThan(screen.indexOf('kept'));
  });
});
