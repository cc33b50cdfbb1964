import { describe, expect, test } from 'bun:test';
import { LogLines } from './log-lines';

describe('LogLines', () => {
  test('whole lines per vertex and stream; a multi-byte character cut between chunks stays whole', () => {
    const l = new LogLines();
    const euro = Buffer.from('€\n');
    expect(l.push({ vertex: 'a', stream: 1, data: Buffer.concat([Buffer.from('price '), euro.subarray(0, 1)]) })).toEqual([]);
    expect(l.push({ vertex: 'a', stream: 2, data: Buffer.from('err\r\n') })).toEqual([{ vertex: 'a', stream: 2, text: 'err' }]);
    expect(l.push({ vertex: 'a', stream: 1, data: euro.subarray(1) })).toEqual([{ vertex: 'a', stream: 1, text: 'price €' }]);
  });

  test('flush gives up on unfinished lines, of one vertex or all', () => {
    const l = new LogLines();
    l.push({ vertex: 'a', stream: 1, data: Buffer.from('one') });
    l.push({ vertex: 'b', stream: 1, data: Buffer.from('two') });
    expect(l.flush('a')).toEqual([{ vertex: 'a', stream: 1, text: 'one' }]);
    expect(l.flush()).toEqual([{ vertex: 'b', stream: 1, text: 'two' }]);
    expect(l.flush()).toEqual([]);
  });
});
