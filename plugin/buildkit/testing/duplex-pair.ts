import { Duplex, PassThrough } from 'node:stream';

/**
 * Test support: two connected in-process duplexes, what one writes the other
 * reads, and ending one ends the other's readable side. Stands in for the
 * daemon's connection in in-process session tests (design.md §5.9).
 */
export function duplexPair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = new Duplex({ read() {}, write(c, _e, cb) { aToB.write(c, cb); }, final(cb) { aToB.end(); cb(); } });
  const b = new Duplex({ read() {}, write(c, _e, cb) { bToA.write(c, cb); }, final(cb) { bToA.end(); cb(); } });
  aToB.on('data', (c: Buffer) => b.push(c));
  bToA.on('data', (c: Buffer) => a.push(c));
  aToB.on('end', () => b.push(null));
  bToA.on('end', () => a.push(null));
  return [a, b];
}
