import { describe, expect, test } from 'bun:test';
import { chooseProgressTerminal, type ClosableStream } from './progress-terminal';

const piped = { write() {}, isTTY: false };
const terminal = { write() {}, isTTY: true };

/** A controlling terminal stand-in that records whether it was opened and closed. */
function controlling() {
  const calls: string[] = [];
  const stream: ClosableStream = { isTTY: true, columns: 100, write() {}, close: () => calls.push('close') };
  return { calls, open: () => (calls.push('open'), stream), stream };
}

describe('chooseProgressTerminal', () => {
  test('stdout piped by Nx, not CI, Nx streaming task output: the live view goes to the controlling terminal, closed with the run', () => {
    for (const option of ['auto', 'tty'] as const) {
      const tty = controlling();
      const chosen = chooseProgressTerminal(option, piped, { NX_STREAM_OUTPUT: 'true', NX_TUI: 'false' }, tty.open);
      expect(chosen).toMatchObject({ mode: 'tty', controlling: true });
      expect(chosen.stream).toBe(tty.stream);
      chosen.close();
      expect(tty.calls).toEqual(['open', 'close']);
    }
  });

  const plain: Array<[string, NodeJS.ProcessEnv, string]> = [
    ['CI is set', { CI: 'true', NX_STREAM_OUTPUT: 'true' }, 'stdout is not a terminal, and CI is set (CI=true), so the controlling terminal is not used'],
    ["Nx's terminal UI owns the screen", { NX_TUI: 'true', NX_STREAM_OUTPUT: 'true' }, "Nx's terminal UI owns the terminal (NX_TUI=true); it shows these lines in its task panes"],
    ['Nx may draw its own view', {}, 'Nx may draw its own live view on this terminal (no --output-style=stream, --batch or NX_STREAM_OUTPUT=true), so the controlling terminal is not used'],
  ];
  test.each(plain)('plain, never opening the terminal, when %s', (_name, env, because) => {
    const tty = controlling();
    expect(chooseProgressTerminal('auto', piped, env, tty.open)).toMatchObject({ mode: 'plain', controlling: false, plainBecause: because });
    expect(tty.calls).toEqual([]);
  });

  test('no controlling terminal (a daemon, a container without one): plain, saying what opening it said', () => {
    const none = () => {
      throw Object.assign(new Error('ENXIO: no such device or address'), { code: 'ENXIO' });
    };
    expect(chooseProgressTerminal('tty', piped, { NX_STREAM_OUTPUT: 'true' }, none)).toMatchObject({
      mode: 'plain',
      plainBecause: 'stdout is not a terminal (Nx pipes it) and there is no controlling terminal to draw on (/dev/tty: ENXIO)',
    });
  });

  test('stdout a terminal: drawn there as before; plain, json and quiet are kept as chosen and never open the terminal', () => {
    const tty = controlling();
    expect(chooseProgressTerminal('auto', terminal, {}, tty.open)).toMatchObject({ mode: 'tty', controlling: false, stream: terminal });
    expect(chooseProgressTerminal('auto', terminal, { CI: '1' }, tty.open)).toMatchObject({ mode: 'plain', plainBecause: 'CI is set (CI=1)' });
    for (const option of ['plain', 'json', 'quiet'] as const) {
      expect(chooseProgressTerminal(option, piped, { NX_STREAM_OUTPUT: 'true' }, tty.open)).toMatchObject({ mode: option, controlling: false });
    }
    expect(tty.calls).toEqual([]);
  });

  test('a caller-supplied stream without an opener decides alone', () => {
    expect(chooseProgressTerminal('auto', piped, { NX_STREAM_OUTPUT: 'true' })).toMatchObject({ mode: 'plain', plainBecause: 'stdout is not a terminal' });
  });
});
