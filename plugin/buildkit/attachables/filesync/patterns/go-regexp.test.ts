import { describe, expect, test } from 'bun:test';
import { compileGoRegexp, GoRegexpSyntaxError } from './go-regexp';

// Go RE2 semantics that differ from JS regexps, or that JS spells differently.
const cases: Array<[source: string, text: string, match: boolean]> = [
  ['^a.b$', 'a\rb', true], // Go's . only excludes \n
  ['^a.b$', 'a\nb', false],
  ['^\\s$', '\u00a0', false], // Go's \s is ASCII only
  ['^\\s$', '\t', true],
  ['^\\d$', '٣', false],
  ['^[[:alpha:]]+$', 'abZ', true],
  ['^[[:^alpha:]]$', '1', true],
  ['^[\\d\\-x]+$', '1-x', true],
  ['^\\pL$', 'é', true],
  ['^\\p{Greek}$', 'λ', true],
  ['^\\PL$', '1', true],
  ['^[^/]$', '😀', true], // one rune, not one UTF-16 unit
  ['^\\x41\\x{1F600}$', 'A😀', true],
  ['^\\101$', 'A', true], // octal
  ['^\\Qa.b$', 'a.b$', true], // \Q quotes to the end, anchor included
  ['^a{2}$', 'aa', true],
  ['^a{$', 'a{', true], // not a repeat: a literal
  ['^a{01}$', 'a{01}', true],
  ['^a|b$', 'xb', true],
  ['^[[^/]]$', '^]', true], // a class containing [, ^ and /, then a literal ]
  ['^a]$', 'a]', true],
  ['^(.*/)?x$', 'a/b/x', true],
];
const errors = ['\\1', '\\e', '[z-a]', '[[:foo:]]', 'a**', '*a', '(a', 'a)', '\\C', 'a{1001}', '\\p{Letter}', '[a', 'a\\'];

describe('compileGoRegexp', () => {
  test.each(cases)('%p against %p: %p', (source, text, match) => {
    expect(compileGoRegexp(source).test(text)).toBe(match);
  });
  test.each(errors)('%p is rejected as Go rejects it', (source) => {
    expect(() => compileGoRegexp(source)).toThrow(GoRegexpSyntaxError);
  });
});
