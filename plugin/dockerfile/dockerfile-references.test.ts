import { describe, expect, test } from 'bun:test';
import { parseDockerfileReferences } from './dockerfile-references';

const refs = (text: string) => parseDockerfileReferences(text).map((r) => `${r.kind}:${r.ref}@${r.line}`);

describe('parseDockerfileReferences', () => {
  test('a FROM resolved from build-arg defaults says so; a literal one does not', () => {
    expect(parseDockerfileReferences('ARG B=base\nFROM $B\nFROM other\n').map((r) => r.fromArgDefaults ?? false)).toEqual([true, false]);
  });

  test.each<[string, string, string[]]>([
    ['plain FROM', 'FROM base\n', ['from:base@1']],
    ['tag and registry kept as written', 'FROM registry.local:5000/team/base:1.2\n', ['from:registry.local:5000/team/base:1.2@1']],
    ['lowercase keyword', 'from base\nrun echo\n', ['from:base@1']],
    ['platform flag and stage name', 'FROM --platform=$BUILDPLATFORM base AS build\n', ['from:base@1']],
    ['scratch is no image', 'FROM scratch\nFROM SCRATCH\n', []],
    ['a global ARG default resolves FROM $BASE and ${BASE}', 'ARG BASE=base\nARG TAG="1"\nFROM ${BASE}\nFROM $BASE:$TAG\n', ['from:base@3', 'from:base:1@4']],
    ['several args on one ARG line, quoted defaults', "ARG REG=registry.local:5000 IMG='team/base'\nFROM ${REG}/${IMG}:2\n", ['from:registry.local:5000/team/base:2@2']],
    ['default and alternative forms', 'ARG SET=x\nARG EMPTY=\nFROM ${UNSET:-fallback}\nFROM ${EMPTY:-other}\nFROM base${SET:+-tagged}\n', ['from:fallback@3', 'from:other@4', 'from:base-tagged@5']],
    ['an ARG without a default, or declared after the first FROM, is skipped', 'ARG BASE\nFROM $BASE\nARG LATE=late\nFROM ${LATE}\n', []],
    ['a FROM that resolves to scratch or an earlier stage is not an image', 'ARG B=scratch\nARG S=build\nFROM $B AS build\nFROM ${S}\n', []],
    ['earlier stage by name (any case) is skipped', 'FROM base AS Build\nFROM build\nFROM BUILD\n', ['from:base@1']],
    ['a stage named later is still an image before it', 'FROM tools\nFROM base AS tools\n', ['from:tools@1', 'from:base@2']],
    ['COPY --from image, stage and index', 'FROM base AS b\nFROM other\nCOPY --from=b /x /x\nCOPY --from=0 /y /y\nCOPY --link --from=helper:2 /z /z\n', ['from:base@1', 'from:other@2', 'copy-from:helper:2@5']],
    ['COPY --from with ARG is skipped', 'FROM base\nCOPY --from=${IMG} /a /a\n', ['from:base@1']],
    ['RUN --mount from', 'FROM base\nRUN --mount=type=bind,from=tools,source=/bin,target=/t --mount=type=cache,target=/c true\n', ['from:base@1', 'mount-from:tools@2']],
    ['RUN --mount from a stage is skipped', 'FROM tools AS t\nFROM base\nRUN --mount=type=bind,from=t,target=/t true\n', ['from:tools@1', 'from:base@2']],
    ['comments and blank lines', '# FROM commented\n\n   # FROM indented comment\nFROM base\n', ['from:base@4']],
    ['continuation joins lines', 'FROM \\\n  base \\\n  AS b\nFROM b\n', ['from:base@1']],
    ['comment inside a continuation', 'RUN echo a \\\n# FROM nope\n  && echo b\nFROM base\n', ['from:base@4']],
    ['escape directive', '# escape=`\nFROM `\n base\n', ['from:base@2']],
    ['backslash is literal with a backtick escape', '# escape=`\nRUN dir c:\\\nFROM base\n', ['from:base@3']],
    ['heredoc body is not parsed', 'FROM base\nCOPY <<EOF /etc/x\nFROM fake\nEOF\nRUN <<-"END"\n\tFROM fake2\n\tEND\nFROM real\n', ['from:base@1', 'from:real@8']],
    ['two heredocs on one RUN', 'FROM base\nRUN <<A <<B\nFROM x\nA\nFROM y\nB\nFROM z\n', ['from:base@1', 'from:z@7']],
    ['CRLF and BOM', '\uFEFFFROM base\r\nFROM other\r\n', ['from:base@1', 'from:other@2']],
    ['digest-pinned reference is reported as written', 'FROM base@sha256:abc\n', ['from:base@sha256:abc@1']],
  ])('%s', (_name, text, expected) => {
    expect(refs(text)).toEqual(expected);
  });

  test('a text parsed before gives the same answer, whatever the caller did with the first', () => {
    const text = 'FROM base AS b\nCOPY --from=tools /x /x\n';
    const first = parseDockerfileReferences(text);
    first[0]!.ref = 'changed';
    first.push({ ref: 'extra', kind: 'from', line: 9 });
    expect(parseDockerfileReferences(text)).toEqual([
      { ref: 'base', kind: 'from', line: 1 },
      { ref: 'tools', kind: 'copy-from', line: 2 },
    ]);
  });
});
