import { describe, expect, test } from 'bun:test';
import { BadPatternError, decodeRune, globMatch } from './glob-match';

// Cases from Go's path/filepath match tests (Unix), as data.
const cases: Array<[pattern: string, name: string, result: boolean | 'bad-pattern']> = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', false],
  ['a*/b', 'abc/b', true], ['a*/b', 'a/c/b', false], ['a*b*c*d*e*/f', 'axbxcxdxe/f', true], ['a*b*c*d*e*/f', 'axbxcxdxexxx/f', true],
  ['a*b*c*d*e*/f', 'axbxcxdxe/xxx/f', false], ['a*b*c*d*e*/f', 'axbxcxdxexxx/fff', false], ['a*b?c*x', 'abxbbxdbxebxczzx', true],
  ['a*b?c*x', 'abxbbxdbxebxczzy', false], ['ab[c]', 'abc', true], ['ab[b-d]', 'abc', true], ['ab[e-g]', 'abc', false],
  ['ab[^c]', 'abc', false], ['ab[^b-d]', 'abc', false], ['ab[^e-g]', 'abc', true], ['a\\*b', 'a*b', true], ['a\\*b', 'ab', false],
  ['a?b', 'a☺b', true], ['a[^a]b', 'a☺b', true], ['a???b', 'a☺b', false], ['a[^a][^a][^a]b', 'a☺b', false], ['[a-ζ]*', 'α', true],
  ['*[a-ζ]', 'A', false], ['a?b', 'a/b', false], ['a*b', 'a/b', false], ['[\\]a]', ']', true], ['[\\-]', '-', true],
  ['[x\\-]', 'x', true], ['[x\\-]', '-', true], ['[x\\-]', 'z', false], ['[\\-x]', 'x', true], ['[\\-x]', '-', true],
  ['[\\-x]', 'a', false], ['[]a]', ']', 'bad-pattern'], ['[-]', '-', 'bad-pattern'], ['[x-]', 'x', 'bad-pattern'],
  ['[x-]', '-', 'bad-pattern'], ['[x-]', 'z', 'bad-pattern'], ['[-x]', 'x', 'bad-pattern'], ['[-x]', '-', 'bad-pattern'],
  ['[-x]', 'a', 'bad-pattern'], ['\\', 'a', 'bad-pattern'], ['[a-b-c]', 'a', 'bad-pattern'], ['[', 'a', 'bad-pattern'],
  ['[^', 'a', 'bad-pattern'], ['[^bc', 'a', 'bad-pattern'], ['a[', 'a', 'bad-pattern'], ['a[', 'ab', 'bad-pattern'],
  ['a[', 'x', 'bad-pattern'], ['a/b[', 'a/b', 'bad-pattern'], ['*x', 'xxx', true],
  // Astral characters are one rune for ? and classes.
  ['?', '😀', true], ['??', '😀', false], ['[😀]', '😀', true], ['*.txt', 'é😀.txt', true],
];

describe('globMatch (Go filepath.Match)', () => {
  test.each(cases)('%p against %p: %p', (pattern, name, result) => {
    if (result === 'bad-pattern') expect(() => globMatch(pattern, name)).toThrow(BadPatternError);
    else expect(globMatch(pattern, name)).toBe(result);
  });
  test('decodeRune reads UTF-8 like Go, invalid bytes as U+FFFD of length 1', () => {
    expect(decodeRune(Buffer.from('😀'))).toEqual([0x1f600, 4]);
    expect(decodeRune(Buffer.from([0xc3, 0xa9]))).toEqual([0xe9, 2]);
    expect(decodeRune(Buffer.from([0x80]))).toEqual([0xfffd, 1]);
    expect(decodeRune(Buffer.from([0xed, 0xa0, 0x80]))).toEqual([0xfffd, 1]); // a surrogate
    expect(decodeRune(Buffer.alloc(0))).toEqual([0xfffd, 0]);
  });
});
