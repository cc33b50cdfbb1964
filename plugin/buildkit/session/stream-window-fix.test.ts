import { describe, expect, test } from 'bun:test';
import { Duplex } from 'node:stream';
import { H2_PREFACE as preface, h2Frame as frame, h2Settings as settings, h2WindowUpdate as windowUpdate } from '../testing/http2-frames';
import { fixStreamWindows } from './stream-window-fix';

const headers = (stream: number, flags = 0x4) => frame(1, flags, stream, [0x82, 0x84]);
const data = (stream: number, bytes: number, flags = 0) => frame(0, flags, stream, Buffer.alloc(bytes, 0xab));
const INITIAL_WINDOW_SIZE = 4;
const MAX_FRAME_SIZE = 5;

/** The session's side of a connection: what the wrapper hands up, and a way to write through it. */
function harness() {
  const written: Buffer[] = [];
  const inner = new Duplex({
    read() {},
    write(chunk, _enc, cb) {
      written.push(chunk);
      cb();
    },
  });
  const wrapper = fixStreamWindows(inner);
  const seen: Buffer[] = [];
  wrapper.on('data', (c: Buffer) => seen.push(c));
  const settle = () => new Promise((r) => setImmediate(r));
  return {
    /** Deliver bytes from the peer, cut at the given offsets. */
    async peer(bytes: Buffer, cuts: number[] = []) {
      let from = 0;
      for (const at of [...cuts, bytes.length]) {
        inner.push(bytes.subarray(from, at));
        from = at;
      }
      await settle();
    },
    async local(bytes: Buffer) {
      wrapper.write(bytes);
      await settle();
    },
    seen: () => Buffer.concat(seen),
    written: () => Buffer.concat(written),
  };
}

const randomCuts = (length: number, n: number) => [...new Set(Array.from({ length: n }, () => 1 + Math.floor(Math.random() * (length - 1))))].sort((a, b) => a - b);

describe('fixStreamWindows', () => {
  test('passes every byte through unchanged when the window is never raised on open streams, however it is cut', async () => {
    const stream = Buffer.concat([
      preface, settings([INITIAL_WINDOW_SIZE, 1 << 20], [MAX_FRAME_SIZE, 32768]), frame(4, 1, 0), headers(1), data(1, 40_000),
      windowUpdate(0, 5000), frame(6, 0, 0, Buffer.alloc(8)), headers(3, 0), frame(9, 0x4, 3, [0x86]), data(3, 0, 1), settings([MAX_FRAME_SIZE, 65536]),
    ]);
    for (let i = 0; i < 50; i++) {
      const h = harness();
      await h.peer(stream, randomCuts(stream.length, 1 + (i % 12)));
      expect(h.seen().equals(stream)).toBe(true);
    }
    // Our own bytes are never touched.
    const h = harness();
    await h.local(Buffer.concat([data(1, 100, 1), frame(3, 0, 3, [0, 0, 0, 8])]));
    expect(h.written().equals(Buffer.concat([data(1, 100, 1), frame(3, 0, 3, [0, 0, 0, 8])]))).toBe(true);
  });

  test('a raise on open streams becomes WINDOW_UPDATEs for exactly the difference, wherever the bytes are cut', async () => {
    const before = Buffer.concat([preface, settings(), headers(1), headers(3, 0x0), frame(9, 0x4, 3, [0x86])]);
    const raise = settings([MAX_FRAME_SIZE, 32768], [INITIAL_WINDOW_SIZE, 65_535 + 100_000]);
    const input = Buffer.concat([before, raise, data(1, 10)]);
    const expected = Buffer.concat([
      before, settings([MAX_FRAME_SIZE, 32768], [INITIAL_WINDOW_SIZE, 65_535]), windowUpdate(1, 100_000), windowUpdate(3, 100_000), data(1, 10),
    ]);
    // Every single cut and every pair of cuts (a frame header or payload split anywhere), then random many-way cuts.
    const cutSets: number[][] = [[]];
    for (let a = 1; a < input.length; a++) {
      cutSets.push([a]);
      for (let b = a + 1; b < input.length; b += 3) cutSets.push([a, b]);
    }
    for (let i = 0; i < 200; i++) cutSets.push(randomCuts(input.length, 2 + (i % 20)));
    for (const cuts of cutSets) {
      const h = harness();
      await h.peer(input, cuts);
      expect(h.seen().toString('hex')).toBe(expected.toString('hex'));
    }
  });

  test('streams opened after a raise get the missing credit after their header block; closed streams get none', async () => {
    const h = harness();
    await h.peer(Buffer.concat([preface, settings([INITIAL_WINDOW_SIZE, 1 << 20]), headers(1), headers(3)]));
    // The value set before any stream existed reaches the session as sent.
    expect(h.seen().includes(settings([INITIAL_WINDOW_SIZE, 1 << 20]))).toBe(true);
    await h.local(Buffer.concat([headers(1), data(1, 5, 0x1)])); // we end stream 1
    const mark = h.seen().length;
    await h.peer(Buffer.concat([settings([INITIAL_WINDOW_SIZE, (1 << 20) + 500]), headers(5, 0x0), frame(9, 0, 5, [1]), frame(9, 0x4, 5, [2])]));
    expect(h.seen().subarray(mark).toString('hex')).toBe(
      Buffer.concat([
        settings([INITIAL_WINDOW_SIZE, 1 << 20]), windowUpdate(3, 500),
        headers(5, 0x0), frame(9, 0, 5, [1]), frame(9, 0x4, 5, [2]), windowUpdate(5, 500),
      ]).toString('hex'),
    );
    // A stream the peer reset needs nothing either; later raises add up.
    const mark2 = h.seen().length;
    await h.peer(Buffer.concat([frame(3, 0, 3, [0, 0, 0, 8]), settings([INITIAL_WINDOW_SIZE, (1 << 20) + 800])]));
    expect(h.seen().subarray(mark2).toString('hex')).toBe(
      Buffer.concat([frame(3, 0, 3, [0, 0, 0, 8]), settings([INITIAL_WINDOW_SIZE, 1 << 20]), windowUpdate(5, 300)]).toString('hex'),
    );
  });

  test('a lowered window cannot be expressed as updates: from then on the peer\'s frames pass unchanged', async () => {
    const h = harness();
    await h.peer(Buffer.concat([preface, settings(), headers(1)]));
    const mark = h.seen().length;
    const rest = Buffer.concat([settings([INITIAL_WINDOW_SIZE, 1000]), settings([INITIAL_WINDOW_SIZE, 900_000]), headers(3)]);
    await h.peer(rest);
    expect(h.seen().subarray(mark).equals(rest)).toBe(true);
  });
});
