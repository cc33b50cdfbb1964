import { describe, expect, test } from 'bun:test';
import { formatDate } from './format-date';

const at = new Date('2024-03-07T05:09:02.045Z');

describe('formatDate', () => {
  const cases: [string, string][] = [
    ['YYYYMMDD', '20240307'],
    ['YYYY-MM-DD', '2024-03-07'],
    ['YYMMDD.HHmmss', '240307.050902'],
    ['YYYYMMDD-HHmmssSSS', '20240307-050902045'],
    ['YYYY_MM', '2024_03'],
    ['', ''],
  ];
  test.each(cases)('%p → %p', (format, expected) => expect(formatDate(at, format)).toBe(expected));

  test('always uses UTC, whatever the local zone', () => {
    // 23:30 on the 31st in UTC is already the 1st in UTC+1; the tag must not depend on the machine.
    expect(formatDate(new Date('2023-12-31T23:30:00Z'), 'YYYYMMDDHH')).toBe('2023123123');
  });

  const bad: [string, string][] = [['yyyyMMdd', '"y"'], ['YYYYMMDDTHH', '"T"'], ['Q', '"Q"']];
  test.each(bad)('rejects unknown letters in %p', (format, token) => {
    expect(() => formatDate(at, format)).toThrow(`unknown date token ${token}`);
  });

  test('rejects an invalid date', () => expect(() => formatDate(new Date('nope'), 'YYYY')).toThrow('invalid date'));
});
