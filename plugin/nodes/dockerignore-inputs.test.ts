import { describe, expect, test } from 'bun:test';
import { dockerignoreInputs } from './dockerignore-inputs';

const keep = ['Dockerfile', '.dockerignore'];

describe('dockerignoreInputs', () => {
  test.each<[string, string, string[]]>([
    ['a name covers the entry and everything below it', 'node_modules\n', ['!{projectRoot}/node_modules', '!{projectRoot}/node_modules/**']],
    ['leading and trailing slashes are dropped', '/dist/\n', ['!{projectRoot}/dist', '!{projectRoot}/dist/**']],
    ['a trailing ** needs no second glob', 'build/**\n', ['!{projectRoot}/build/**']],
    ['globs are kept', '**/*.log\n*.md\n', ['!{projectRoot}/**/*.log', '!{projectRoot}/**/*.log/**', '!{projectRoot}/*.md', '!{projectRoot}/*.md/**']],
    ['comments and blank lines', '# comment\n\n  \ntmp\n', ['!{projectRoot}/tmp', '!{projectRoot}/tmp/**']],
    ['paths are cleaned', './a//b/../c\n', ['!{projectRoot}/a/c', '!{projectRoot}/a/c/**']],
    ['the Dockerfile and the ignore file stay hashed', 'Dockerfile\n.dockerignore\n.*\nDocker*\nsecret\n', ['!{projectRoot}/secret', '!{projectRoot}/secret/**']],
    ['a match-everything pattern would hide the Dockerfile', '*\n', []],
    ['only patterns after the last exception are final', 'logs\n!logs/keep\ncache\n', ['!{projectRoot}/cache', '!{projectRoot}/cache/**']],
    ['a trailing exception leaves nothing', 'logs\n!logs/keep\n', []],
    ['a lone ! counts as an exception', 'a\n!\nb\n', ['!{projectRoot}/b', '!{projectRoot}/b/**']],
    ['patterns read differently by minimatch are skipped', '[abc].txt\n{a,b}\n+(x)\nesc\\*aped\nok\n', ['!{projectRoot}/ok', '!{projectRoot}/ok/**']],
    ['parent and root patterns are skipped', '..\n../x\n.\n/\nok\n', ['!{projectRoot}/ok', '!{projectRoot}/ok/**']],
    ['duplicates collapse', 'a\na/\n/a\n', ['!{projectRoot}/a', '!{projectRoot}/a/**']],
    ['CRLF', 'a\r\nb\r\n', ['!{projectRoot}/a', '!{projectRoot}/a/**', '!{projectRoot}/b', '!{projectRoot}/b/**']],
  ])('%s', (_name, text, expected) => {
    expect(dockerignoreInputs(text, keep)).toEqual(expected);
  });

  test('a pattern seen before is judged again for each project\'s own files', () => {
    // The compiled globs are shared across calls; what they protect must not be.
    expect(dockerignoreInputs('api.*\n', ['Dockerfile', '.dockerignore'])).toEqual(['!{projectRoot}/api.*', '!{projectRoot}/api.*/**']);
    expect(dockerignoreInputs('api.*\n', ['api.Dockerfile', 'api.Dockerfile.dockerignore'])).toEqual([]);
    expect(dockerignoreInputs('api.*\n', ['Dockerfile'])).toEqual(['!{projectRoot}/api.*', '!{projectRoot}/api.*/**']);
  });

  test('an ignore text translated before gives the same answer, whatever the caller did with the first', () => {
    const first = dockerignoreInputs('logs\n', keep);
    first.push('!{projectRoot}/extra');
    expect(dockerignoreInputs('logs\n', keep)).toEqual(['!{projectRoot}/logs', '!{projectRoot}/logs/**']);
  });

  test('more distinct patterns than the compiled-glob cache holds still translate exactly', () => {
    const names = Array.from({ length: 1500 }, (_, i) => `dir${i}`);
    const out = dockerignoreInputs([...names, 'Dockerfile', 'dir7'].join('\n'), keep);
    expect(out).toHaveLength(names.length * 2);
    expect(out).toContain('!{projectRoot}/dir1499/**');
    expect(out).not.toContain('!{projectRoot}/Dockerfile');
    // And the cache, cleared on the way, answers the same afterwards.
    expect(dockerignoreInputs('Dockerfile\ndir7\n', keep)).toEqual(['!{projectRoot}/dir7', '!{projectRoot}/dir7/**']);
  });

  test('a Dockerfile-specific ignore file is protected by its own name', () => {
    expect(dockerignoreInputs('*.dockerignore\n', ['api.Dockerfile', 'api.Dockerfile.dockerignore'])).toEqual([]);
  });
});
