import { describe, expect, test } from 'bun:test';
import { imageMatchKey } from '../../config/image-reference';
import { parseDockerfileReferences } from '../../dockerfile/dockerfile-references';
import { rewriteReferences } from './rewrite-references';

const link = 'nx-buildkit-link/base-image:r1';
/** Rewrite the references that name `base` (any spelling), as the engine does for a link to the target building it. */
const rewrite = (text: string) =>
  rewriteReferences(text, parseDockerfileReferences(text).filter((r) => imageMatchKey(r.ref) === 'docker.io/library/base:latest'), link);

describe('rewriting references for frontends without named contexts', () => {
  test('FROM, COPY --from and RUN --mount from= name the link; commands and other images stay', () => {
    const text = [
      'FROM base AS build',
      'RUN echo base > /base',
      'FROM --platform=$BUILDPLATFORM docker.io/library/base:latest',
      'COPY --from=base /a /b',
      'COPY --from=build /x /y',
      'RUN --mount=type=bind,from=base,target=/m cat /m/base',
      'FROM other',
    ].join('\n');
    expect(rewrite(text).split('\n')).toEqual([
      `FROM ${link} AS build`,
      'RUN echo base > /base',
      `FROM --platform=$BUILDPLATFORM ${link}`,
      `COPY --from=${link} /a /b`,
      'COPY --from=build /x /y',
      `RUN --mount=type=bind,from=${link},target=/m cat /m/base`,
      'FROM other',
    ]);
  });

  test('a prefix of another name is not touched, CRLF line ends are kept', () => {
    const text = 'FROM base-tools\r\nFROM base\r\n';
    expect(rewrite(text)).toBe(`FROM base-tools\r\nFROM ${link}\r\n`);
  });

  test('a reference not in the position that names an image is an error, not a silent miss', () => {
    expect(() => rewriteReferences('FROM other\n', [{ ref: 'base', kind: 'from', line: 1 }], link)).toThrow('cannot point "base" (line 1)');
  });
});
