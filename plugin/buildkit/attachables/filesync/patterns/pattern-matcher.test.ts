import { describe, expect, test } from 'bun:test';
import { BadPatternError } from './glob-match';
import { PatternMatcher, type MatchInfo } from './pattern-matcher';
import { translate, type PatternKind } from './pattern';
import { goDir } from './go-path';

// moby/patternmatcher's test tables (patternmatcher_test.go), as data.
// `exact`: the path itself matches; `inexact`: only through a parent directory; `fail`: no match.
type Expect = 'exact' | 'inexact' | 'fail';
const upstreamCases: Array<[pattern: string, text: string, expect: Expect]> = [
  ['**', 'file', 'exact'], ['**', 'file/', 'exact'], ['**/', 'file', 'exact'], ['**/', 'file/', 'exact'],
  ['**', '/', 'exact'], ['**/', '/', 'exact'], ['**', 'dir/file', 'exact'], ['**/', 'dir/file', 'exact'],
  ['**', 'dir/file/', 'exact'], ['**/', 'dir/file/', 'exact'], ['**/**', 'dir/file', 'exact'], ['**/**', 'dir/file/', 'exact'],
  ['dir/**', 'dir/file', 'exact'], ['dir/**', 'dir/file/', 'exact'], ['dir/**', 'dir/dir2/file', 'exact'], ['dir/**', 'dir/dir2/file/', 'exact'],
  ['**/dir', 'dir', 'exact'], ['**/dir', 'dir/file', 'inexact'], ['**/dir2/*', 'dir/dir2/file', 'exact'], ['**/dir2/*', 'dir/dir2/file/', 'inexact'],
  ['**/dir2/**', 'dir/dir2/dir3/file', 'exact'], ['**/dir2/**', 'dir/dir2/dir3/file/', 'exact'],
  ['**file', 'file', 'exact'], ['**file', 'dir/file', 'exact'], ['**/file', 'dir/file', 'exact'], ['**file', 'dir/dir/file', 'exact'],
  ['**/file', 'dir/dir/file', 'exact'], ['**/file*', 'dir/dir/file', 'exact'], ['**/file*', 'dir/dir/file.txt', 'exact'],
  ['**/file*txt', 'dir/dir/file.txt', 'exact'], ['**/file*.txt', 'dir/dir/file.txt', 'exact'], ['**/file*.txt*', 'dir/dir/file.txt', 'exact'],
  ['**/**/*.txt', 'dir/dir/file.txt', 'exact'], ['**/**/*.txt2', 'dir/dir/file.txt', 'fail'], ['**/*.txt', 'file.txt', 'exact'],
  ['**/**/*.txt', 'file.txt', 'exact'], ['a**/*.txt', 'a/file.txt', 'exact'], ['a**/*.txt', 'a/dir/file.txt', 'exact'],
  ['a**/*.txt', 'a/dir/dir/file.txt', 'exact'], ['a/*.txt', 'a/dir/file.txt', 'fail'], ['a/*.txt', 'a/file.txt', 'exact'],
  ['a/*.txt**', 'a/file.txt', 'exact'], ['a[b-d]e', 'ae', 'fail'], ['a[b-d]e', 'ace', 'exact'], ['a[b-d]e', 'aae', 'fail'],
  ['a[^b-d]e', 'aze', 'exact'], ['.*', '.foo', 'exact'], ['.*', 'foo', 'fail'], ['abc.def', 'abcdef', 'fail'],
  ['abc.def', 'abc.def', 'exact'], ['abc.def', 'abcZdef', 'fail'], ['abc?def', 'abcZdef', 'exact'], ['abc?def', 'abcdef', 'fail'],
  ['**/foo/bar', 'foo/bar', 'exact'], ['**/foo/bar', 'dir/foo/bar', 'exact'], ['**/foo/bar', 'dir/dir2/foo/bar', 'exact'],
  ['abc/**', 'abc', 'fail'], ['abc/**', 'abc/def', 'exact'], ['abc/**', 'abc/def/ghi', 'exact'], ['**/.foo', '.foo', 'exact'],
  ['**/.foo', 'bar.foo', 'fail'], ['a(b)c/def', 'a(b)c/def', 'exact'], ['a(b)c/def', 'a(b)c/xyz', 'fail'],
  ['a.|)$(}+{bc', 'a.|)$(}+{bc', 'exact'],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  ['dist/*.whl', 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact'],
  // Unix only: `\` escapes.
  ['a\\\\', 'a\\', 'exact'], ['a\\*b', 'a*b', 'exact'],
];
const upstreamMultiCases: Array<[patterns: string[], text: string, expect: Expect]> = [
  [['**', '!util/docker/web'], 'util/docker/web/foo', 'fail'],
  [['**', '!util/docker/web', 'util/docker/web/foo'], 'util/docker/web/foo', 'exact'],
  [['**', '!dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'fail'],
  [['**', '!dist/*.whl'], 'dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'fail'],
];

/** What a walker computes: every ancestor matched first, its info handed down. */
function matchWithParentResults(pm: PatternMatcher, text: string): boolean {
  let info: MatchInfo;
  const dir = goDir(text);
  if (dir !== '.') {
    const parts = dir.split('/');
    for (let i = 0; i < parts.length; i++) info = pm.matchesUsingParentResults(parts.slice(0, i + 1).join('/'), info).info;
  }
  return pm.matchesUsingParentResults(text, info).matched;
}

describe('PatternMatcher on the upstream table', () => {
  const all: Array<[string[], string, Expect]> = [...upstreamCases.map(([p, t, e]): [string[], string, Expect] => [[p], t, e]), ...upstreamMultiCases];
  test.each(upstreamCases)('matchesExact(%p, %p) is %p', (pattern, text, want) => {
    expect(new PatternMatcher([pattern]).matchesExact(text)).toBe(want === 'exact');
  });
  test.each(all)('matchesOrParentMatches(%p, %p) is %p', (patterns, text, want) => {
    expect(new PatternMatcher(patterns).matchesOrParentMatches(text)).toBe(want !== 'fail');
  });
  test.each(all)('matchesUsingParentResults along the path (%p, %p) is %p', (patterns, text, want) => {
    expect(matchWithParentResults(new PatternMatcher(patterns), text)).toBe(want !== 'fail');
  });
  test.each(all)('matchesUsingParentResults without context (%p, %p) is %p', (patterns, text, want) => {
    expect(new PatternMatcher(patterns).matchesUsingParentResults(text, undefined).matched).toBe(want !== 'fail');
  });
});

describe('PatternMatcher cleaning', () => {
  test('single patterns from the upstream tests', () => {
    expect(new PatternMatcher(['*']).matchesOrParentMatches('fileutils.go')).toBe(true);
    expect(new PatternMatcher(['*.go']).matchesOrParentMatches('fileutils.go')).toBe(true);
    expect(new PatternMatcher(['!fileutils.go', '*.go']).matchesOrParentMatches('fileutils.go')).toBe(true);
    expect(new PatternMatcher(['*.go', '!fileutils.go']).matchesOrParentMatches('fileutils.go')).toBe(false);
    for (const dir of ['docs', 'docs/', 'docs/*']) {
      expect(new PatternMatcher([dir, '!docs/README.md']).matchesOrParentMatches('docs/README.md')).toBe(false);
    }
    expect(new PatternMatcher([]).matchesOrParentMatches('/any/path/there')).toBe(false);
  });
  test('blank patterns are dropped; spaces around `!` patterns are trimmed', () => {
    expect(new PatternMatcher(['docs', 'config']).patterns.length).toBe(2);
    expect(new PatternMatcher(['docs', 'config', '']).patterns.length).toBe(2);
    expect(new PatternMatcher(['docs', '!docs/README.md']).hasExclusions).toBe(true);
    expect(new PatternMatcher(['docs', '  !docs/README.md']).hasExclusions).toBe(true);
    expect(new PatternMatcher(['docs', '!docs/README.md  ']).hasExclusions).toBe(true);
    expect(new PatternMatcher(['docs', 'config']).hasExclusions).toBe(false);
  });
  test('a lone `!` and malformed syntax are rejected when the matcher is built', () => {
    expect(() => new PatternMatcher(['!'])).toThrow('illegal exclusion pattern: "!"');
    expect(() => new PatternMatcher(['['])).toThrow(BadPatternError);
  });
  test('a pattern Go cannot compile fails each time it is used, not when built', () => {
    const pm = new PatternMatcher(['[Local-Only]/']);
    expect(() => pm.matchesOrParentMatches('x')).toThrow('syntax error in pattern');
    expect(() => pm.matchesOrParentMatches('x')).toThrow('syntax error in pattern');
  });
  test('parent info of the wrong length is refused', () => {
    expect(() => new PatternMatcher(['a', 'b']).matchesUsingParentResults('a/b', [true])).toThrow('wrong number of values');
  });
});

// Go's own filepath.Match table, as patternmatcher runs it (a path matches if it or a parent does).
const filepathCases: Array<[pattern: string, text: string, match: boolean | 'bad-pattern']> = [
  ['abc', 'abc', true], ['*', 'abc', true], ['*c', 'abc', true], ['a*', 'a', true], ['a*', 'abc', true], ['a*', 'ab/c', true],
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
  ['[^', 'a', 'bad-pattern'], ['[^bc', 'a', 'bad-pattern'], ['a[', 'a', 'bad-pattern'], ['a[', 'ab', 'bad-pattern'], ['*x', 'xxx', true],
];

describe('PatternMatcher on Go filepath.Match cases', () => {
  test.each(filepathCases)('%p against %p: %p', (pattern, text, match) => {
    if (match === 'bad-pattern') expect(() => new PatternMatcher([pattern])).toThrow(BadPatternError);
    else expect(new PatternMatcher([pattern]).matchesOrParentMatches(text)).toBe(match);
  });
});

// patternmatcher's compile table: how each pattern is tested, and the Go regexp it becomes.
const compileCases: Array<[pattern: string, kind: PatternKind, regexp: string]> = [
  ['*', 'regexp', '^[^/]*$'], ['file*', 'regexp', '^file[^/]*$'], ['*file', 'regexp', '^[^/]*file$'], ['a*/b', 'regexp', '^a[^/]*/b$'],
  ['**', 'suffix', ''], ['**/**', 'regexp', '^(.*/)?.*$'], ['dir/**', 'prefix', ''], ['**/dir', 'suffix', ''],
  ['**/dir2/*', 'regexp', '^(.*/)?dir2/[^/]*$'], ['**/dir2/**', 'regexp', '^(.*/)?dir2/.*$'], ['**file', 'suffix', ''],
  ['**/file*txt', 'regexp', '^(.*/)?file[^/]*txt$'], ['**/**/*.txt', 'regexp', '^(.*/)?(.*/)?[^/]*\\.txt$'],
  ['a[b-d]e', 'regexp', '^a[b-d]e$'], ['.*', 'regexp', '^\\.[^/]*$'], ['abc.def', 'exact', ''], ['abc?def', 'regexp', '^abc[^/]def$'],
  ['**/foo/bar', 'suffix', ''], ['a(b)c/def', 'exact', ''], ['a.|)$(}+{bc', 'exact', ''],
  ['dist/proxy.py-2.4.0rc3.dev36+g08acad9-py3-none-any.whl', 'exact', ''],
];

describe('pattern compilation', () => {
  test.each(compileCases)('%p is a %p test', (pattern, kind, regexp) => {
    const t = translate(pattern);
    expect(t.kind).toBe(kind);
    if (kind === 'regexp') expect(t.source).toBe(regexp);
  });
});

// Our own edge cases. Expected values were produced by running moby/patternmatcher
// (with the current filepath.Match) on each case: 'exact' = the path itself
// matches, 'parent' = only through a parent, 'none', 'bad-pattern' = rejected
// when built, 'match-error' = rejected when used (Go cannot compile its regexp).
type EdgeResult = 'exact' | 'parent' | 'none' | 'bad-pattern' | 'match-error';
const edgeCases: Array<[patterns: string[], text: string, result: EdgeResult]> = [
  [["a\\d"], "a5", 'exact'],
  [["a\\d"], "ad", 'none'],
  [["\\w*"], "a_b", 'exact'],
  [["\\w*"], "a-b", 'exact'],
  [["a\\sb"], "a b", 'exact'],
  [["[[:alpha:]]x"], "kx", 'exact'],
  [["[[:alpha:]]x"], "1x", 'none'],
  [["[[:^digit:]]"], "a", 'exact'],
  [["[[:foo:]]"], "f", 'match-error'],
  [["[*]"], "^*]", 'none'],
  [["[*]"], "^]", 'exact'],
  [["[?]x"], "?]x", 'none'],
  [["[?]x"], "?x", 'none'],
  [["\\Qa*b"], "a[^/]*b$", 'exact'],
  [["\\Qa*b"], "ab", 'none'],
  [["\\x41"], "A", 'exact'],
  [["\\pL"], "é", 'exact'],
  [["\\p{Greek}"], "λ", 'exact'],
  [["\\p{Greek}"], "l", 'none'],
  [["[Local-Only]/"], "x", 'match-error'],
  [["[z-a]"], "b", 'match-error'],
  [["\\1"], "1", 'match-error'],
  [["\\e"], "e", 'match-error'],
  [["**file"], "myfile", 'exact'],
  [["**/file"], "myfile", 'none'],
  [["**"], "any/thing", 'exact'],
  [["a**b"], "axb", 'none'],
  [["a**b"], "ax/b", 'exact'],
  [["a**b"], "ab", 'exact'],
  [["foo**"], "foobar/baz", 'exact'],
  [["foo/**"], "foo", 'none'],
  [["foo/**"], "foo/x/y", 'exact'],
  [["?"], "😀", 'exact'],
  [["a?b"], "a😀b", 'exact'],
  [["a??b"], "a😀b", 'none'],
  [["[^a]"], "😀", 'exact'],
  [["a^b"], "a^b", 'exact'],
  [["a]b"], "a]b", 'exact'],
  [["a.b"], "axb", 'none'],
  [["a+b"], "a+b", 'exact'],
  [["a{1}"], "a{1}", 'exact'],
  [["a$"], "a$", 'exact'],
  [["héllo wörld.txt"], "héllo wörld.txt", 'exact'],
  [["dir/*.txt"], "dir/ü.txt", 'exact'],
  [["/abs"], "abs", 'none'],
  [["./rel"], "rel", 'exact'],
  [["a/../b"], "b", 'exact'],
  [["!a/../b"], "b", 'exact'],
  [["../x"], "x", 'none'],
  [[" spaced "], "spaced", 'exact'],
  [["a//b/"], "a/b", 'exact'],
  [["\u00a0a"], "a", 'exact'],
  [["\u0085a"], "a", 'exact'],
  [["\ufeffa"], "a", 'none'],
  [["docs","!docs/README.md"], "docs/README.md", 'none'],
  [["docs","!docs/README.md"], "docs/other.md", 'parent'],
  [["docs/*","!docs/keep","docs/keep/x"], "docs/keep/x", 'exact'],
  [["docs/*","!docs/keep","docs/keep/x"], "docs/keep/y", 'none'],
  [["*","!*.md","README.md"], "README.md", 'exact'],
  [["*","!*.md"], "a/b.md", 'parent'],
  [["a","!a/b","a/b/c"], "a/b/c/d", 'parent'],
  [["a","!a/b","a/b/c"], "a/b/d", 'none'],
  [["**/node_modules"], "x/node_modules/y", 'parent'],
  [["!keep","*"], "keep", 'exact'],
  [["a\nb"], "a\nb", 'exact'],
  [["a*"], "a\nb", 'exact'],
  [["a\\nb"], "a\nb", 'exact'],
  [["a/**/b"], "a/b", 'exact'],
  [["a/**/b"], "a/x/y/b", 'exact'],
  [["a/**/b"], "ab", 'none'],
  [["a|b"], "a", 'none'],
  [["a|b"], "xb", 'none'],
  [["a|b"], "ax", 'none'],
  [["x{2}"], "xx", 'none'],
  [["x{2}"], "x{2}", 'exact'],
  [["x{"], "x{", 'exact'],
  [["a{01}"], "a{01}", 'exact'],
  [["*{2}"], "ab", 'match-error'],
  [["a[b"], "a[b", 'bad-pattern'],
  [["a\\"], "a\\", 'bad-pattern'],
  [["*\\"], "x", 'bad-pattern'],
  [["[a-c]*\\w)\\"], "a", 'bad-pattern'],
  [["a["], "a", 'bad-pattern'],
  [["a[","*"], "b", 'bad-pattern'],
  [["!"], "a", 'bad-pattern'],
  [[" ! "], "a", 'bad-pattern'],
  [["!!a"], "!a", 'none'],
  [["a","   ",""], "a", 'exact'],
  [["a*|b"], "xb", 'exact'],
  [["a*|b"], "ab/c", 'exact'],
  [["a*|b"], "c", 'none'],
  [["[x]{2}"], "xx", 'exact'],
  [["[x]{2}"], "x", 'none'],
  [["[x]{1,}"], "xxx", 'exact'],
  [["[x]{1001}"], "x", 'match-error'],

];

describe('edge cases checked against patternmatcher', () => {
  test.each(edgeCases)('%p against %p: %p', (patterns, text, result) => {
    if (result === 'bad-pattern') {
      expect(() => new PatternMatcher(patterns)).toThrow();
      return;
    }
    const pm = new PatternMatcher(patterns);
    if (result === 'match-error') {
      expect(() => pm.matchesExact(text)).toThrow(BadPatternError);
      return;
    }
    expect(pm.matchesExact(text)).toBe(result === 'exact');
    expect(pm.matchesOrParentMatches(text)).toBe(result !== 'none');
    expect(matchWithParentResults(pm, text)).toBe(result !== 'none');
  });
});
