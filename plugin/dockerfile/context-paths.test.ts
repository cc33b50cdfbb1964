import { describe, expect, test } from 'bun:test';
import { dockerfileContextPaths, hasOnbuild } from './context-paths';

describe('dockerfileContextPaths', () => {
  test.each([
    ['COPY and ADD sources, cleaned, sorted, once each', 'FROM node:20\nCOPY dist/apps/api/ /app/\nADD ./package.json yarn.lock /app/\nCOPY dist/apps/api /again/\n', ['dist/apps/api', 'package.json', 'yarn.lock']],
    ['the JSON form and flags', 'FROM x\nCOPY --chown=1:1 --link ["a  b/c", "d", "/dest/"]\n', ['a  b/c', 'd']],
    ['wildcards stay patterns', 'FROM x\nCOPY *.json src/**/*.ts /app/\n', ['*.json', 'src/**/*.ts']],
    ['--from copies, remote ADDs and heredocs read no context file', 'FROM x AS a\nFROM y\nCOPY --from=a /out /out\nADD https://example.com/f.tgz /f\nADD git@github.com:o/r.git /r\nCOPY <<EOF /etc/x\nCOPY not-an-instruction /x\nEOF\n', []],
    ['bind mounts from the context; not other mounts or other sources', 'FROM x\nRUN --mount=type=bind,source=tools,target=/t --mount=type=cache,target=/c --mount=type=secret,id=s --mount=from=a,target=/a --mount=src=scripts/run.sh,target=/r.sh make\n', ['scripts/run.sh', 'tools']],
    ['a continued instruction, and `..` stops at the root', 'FROM x\nCOPY \\\n  # a comment inside\n  ../lib \\\n  /lib/\n', ['lib']],
    ['nothing from the context', 'FROM alpine\nRUN echo hi\n', []],
  ])('%s', (_name, text, expected) => {
    expect(dockerfileContextPaths(text)).toEqual(expected);
  });

  test.each([
    ['COPY . (the root)', 'FROM x\nCOPY . /src/\n'],
    ['COPY ./ among others', 'FROM x\nCOPY a ./ /src/\n'],
    ['a build arg in a source', 'FROM x\nARG APP=api\nCOPY dist/apps/$APP /app\n'],
    ['a braced variable', 'FROM x\nCOPY ${DIR}/x /x\n'],
    ['a quoted source', 'FROM x\nCOPY "my dir" /x\n'],
    ['an ONBUILD instruction', 'FROM x\nONBUILD COPY . /app\n'],
    ['a bind mount of the whole context', 'FROM x\nRUN --mount=target=/src make\n'],
    ['a bind mount naming a variable', 'FROM x\nRUN --mount=type=bind,source=$D,target=/d make\n'],
    ['a COPY without a destination', 'FROM x\nCOPY onlyone\n'],
    ['a JSON form that does not parse', 'FROM x\nCOPY ["a", /x\n'],
  ])('the whole context: %s', (_name, text) => {
    expect(dockerfileContextPaths(text)).toBeUndefined();
  });

  test('ONBUILD is found as an instruction, not inside a heredoc', () => {
    expect(hasOnbuild('FROM x\nonbuild COPY . /app\n')).toBe(true);
    expect(hasOnbuild('FROM x\nRUN <<EOF\nonbuild something\nEOF\n')).toBe(false);
  });
});
