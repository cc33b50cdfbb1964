import { describe, expect, test } from 'bun:test';
import { csvFields, csvPairs } from './buildx-csv';

describe("buildx's CSV strings", () => {
  test.each([
    ['type=registry,ref=r/a:cache,mode=max', ['type=registry', 'ref=r/a:cache', 'mode=max']],
    ['"dest=a,b",type=local', ['dest=a,b', 'type=local']],
    ['"x=say ""hi""",y=1', ['x=say "hi"', 'y=1']],
    ['a,,b', ['a', '', 'b']],
    ['a,', ['a', '']],
    ['', ['']],
  ])('%s has the fields %j', (text, fields) => {
    expect(csvFields(text)).toEqual({ fields });
  });

  test.each([
    ['"dest=a,b', 'unclosed quote in field 1'],
    ['type=local,"dest=a"x', 'unexpected text after the closing quote of field 2'],
    ['dest=a"b', 'quote inside the unquoted field "dest=a\\"b" (quote the whole field)'],
  ])('%s is refused: %s', (text, problem) => {
    expect(csvFields(text)).toEqual({ problem });
  });

  test('keys are compared without case; values keep theirs and any further "="', () => {
    expect(csvPairs('Type=Registry,REF=r/a:b,token=a=b=')).toEqual({
      pairs: [
        { key: 'type', value: 'Registry' },
        { key: 'ref', value: 'r/a:b' },
        { key: 'token', value: 'a=b=' },
      ],
    });
  });

  test('a field without a key is refused, naming it', () => {
    expect(csvPairs('type=local,mode')).toEqual({ problem: 'field "mode" is not key=value' });
    expect(csvPairs('=x')).toEqual({ problem: 'field "=x" is not key=value' });
  });
});
