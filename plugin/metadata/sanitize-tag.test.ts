import { describe, expect, test } from 'bun:test';
import { isValidTag } from './image-reference';
import { sanitizeTag } from './sanitize-tag';

describe('sanitizeTag', () => {
  const cases: [string, string][] = [
    ['main', 'main'],
    ['feature/Login_Page', 'feature-login_page'],
    ['dependabot/npm_and_yarn/@types/node-22.1', 'dependabot-npm_and_yarn-types-node-22.1'],
    ['123/merge', '123-merge'],
    ['app@1.2.3', 'app-1.2.3'],
    ['.hidden', 'hidden'],
    ['--x', 'x'],
    ['-.-x', 'x'],
    ['/leading', 'leading'],
    ['fix: spaces  and ümlauts', 'fix-spaces-and-mlauts'],
    ['___', '___'],
    ['...', ''],
    ['', ''],
    ['ñ', ''],
  ];
  test.each(cases)('%p → %p', (input, expected) => {
    const tag = sanitizeTag(input);
    expect(tag).toBe(expected);
    if (tag !== '') expect(isValidTag(tag)).toBe(true);
  });

  test('cuts to 128 characters and stays valid', () => {
    const tag = sanitizeTag(`feature/${'x'.repeat(200)}`);
    expect(tag.length).toBe(128);
    expect(tag.startsWith('feature-x')).toBe(true);
    expect(isValidTag(tag)).toBe(true);
  });
});
