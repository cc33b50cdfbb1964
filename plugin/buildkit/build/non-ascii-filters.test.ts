import { describe, expect, test } from 'bun:test';
import { hasNonAsciiFilters, headerSafe, planFilterHeaders, type FrontendFilters } from './non-ascii-filters';

const base: FrontendFilters = {
  ownContext: true,
  ignore: { file: '/w/app/.dockerignore', patterns: ['*.log', 'node_modules'] },
  dockerfile: { path: '/w/app/Dockerfile', text: 'FROM base\n# café\nRUN echo "héllo" > /x\nCOPY src /src\n' },
  named: [],
};
const withIgnore = (patterns: string[]): FrontendFilters => ({ ...base, ignore: { ...base.ignore, patterns } });
const withText = (text: string): FrontendFilters => ({ ...base, dockerfile: { ...base.dockerfile, text } });

describe('headerSafe', () => {
  test('printable ASCII passes; anything else (non-ASCII, controls) does not', () => {
    expect(headerSafe(['a b/*.txt', '!keep', ''])).toBe(true);
    expect(headerSafe(['ok', 'données/secret.txt'])).toBe(false);
    expect(headerSafe(['tab\there'])).toBe(false);
  });
});

describe('planFilterHeaders: keeping non-ASCII filters away from daemons that cannot pass them', () => {
  test('all-ASCII filters (non-ASCII only in comments and RUN commands): nothing to do, the daemon is not asked', () => {
    expect(hasNonAsciiFilters(base)).toBe(false);
  });

  test('a non-ASCII .dockerignore line on an old daemon: context and Dockerfile become inputs of the own session', () => {
    const f = withIgnore(['*.log', 'données/secret.txt']);
    expect(hasNonAsciiFilters(f)).toBe(true);
    expect(planFilterHeaders(f, false)).toEqual({ contextAsInputs: true });
    expect(planFilterHeaders(f, true)).toEqual({ contextAsInputs: false });
  });

  test('a non-ASCII COPY or ADD source (also JSON form, continued lines, --from flags) or bind mount makes followpaths non-ASCII', () => {
    for (const text of [
      'FROM base\nCOPY données /d/\n',
      'FROM base\nADD ["😀.txt", "/x/"]\n',
      'FROM base\nCOPY --chown=1:1 \\\n  naïve.txt /x/\n',
      'FROM base\nRUN --mount=type=bind,source=données,target=/d cat /d/x\n',
    ]) {
      expect(hasNonAsciiFilters(withText(text))).toBe(true);
      expect(planFilterHeaders(withText(text), false)).toEqual({ contextAsInputs: true });
    }
  });

  test('a non-ASCII Dockerfile name (the Dockerfile local\'s followpaths) counts too', () => {
    const f = { ...base, dockerfile: { ...base.dockerfile, path: '/w/app/Dockerfile.é' } };
    expect(planFilterHeaders(f, false)).toEqual({ contextAsInputs: true });
  });

  test('when another session serves the context, its filters are the caller\'s, not the frontend\'s', () => {
    const f = { ...withIgnore(['données']), ownContext: false, dockerfile: { path: '/w/Dockerfile', text: '' } };
    expect(hasNonAsciiFilters(f)).toBe(false);
    expect(planFilterHeaders(f, false)).toEqual({ contextAsInputs: false });
  });

  test('a local named context whose .dockerignore has non-ASCII patterns fails on an old daemon, naming the file and patterns', () => {
    const f: FrontendFilters = { ...base, named: [{ name: 'assets', ignoreFile: '/w/assets/.dockerignore', patterns: ['*.tmp', 'brouillons/é*', '!gardé'] }] };
    expect(hasNonAsciiFilters(f)).toBe(true);
    expect(() => planFilterHeaders(f, false)).toThrow(
      'named context "assets": /w/assets/.dockerignore has patterns with non-ASCII characters ("brouillons/é*", "!gardé"), which this builder (BuildKit before 0.12) cannot pass to the client; rename those paths or patterns to ASCII, or use BuildKit 0.12 or later',
    );
    expect(planFilterHeaders(f, true)).toEqual({ contextAsInputs: false });
  });
});
