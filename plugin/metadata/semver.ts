/**
 * Semantic versions (semver.org 2.0.0), parsed only as far as image tags
 * need: the numbers, the pre-release part and the build metadata.
 *
 * Written here rather than importing `semver`: we need one strict parse of
 * a fixed grammar and no ranges or comparisons, and this module must stay
 * free of runtime dependencies for the executor bundle.
 */

/** A parsed semantic version. */
export interface SemanticVersion {
  major: number;
  minor: number;
  patch: number;
  /** Pre-release identifiers (`rc.1` → `['rc', '1']`); empty for a release. */
  prerelease: string[];
  /** Build metadata identifiers (after `+`); never part of a Docker tag. */
  build: string[];
  /** `major.minor.patch[-prerelease]`: the version without build metadata or a leading `v`. */
  version: string;
}

const NUMBER = '0|[1-9]\\d*';
const PRERELEASE_ID = `(?:${NUMBER}|\\d*[a-zA-Z-][0-9a-zA-Z-]*)`;
const BUILD_ID = '[0-9a-zA-Z-]+';
const SEMVER = new RegExp(
  `^v?(${NUMBER})\\.(${NUMBER})\\.(${NUMBER})` +
    `(?:-(${PRERELEASE_ID}(?:\\.${PRERELEASE_ID})*))?` +
    `(?:\\+(${BUILD_ID}(?:\\.${BUILD_ID})*))?$`,
);

/**
 * Parse a semantic version; a leading `v` (as in git tags `v1.2.3`) is
 * accepted. Returns `undefined` for anything else (`1.2`, `01.2.3`, `latest`).
 */
export function parseSemver(text: string): SemanticVersion | undefined {
  const match = SEMVER.exec(text);
  if (!match) return undefined;
  const [, major = '', minor = '', patch = '', pre, build] = match;
  const prerelease = pre ? pre.split('.') : [];
  const numbers = [Number(major), Number(minor), Number(patch)] as const;
  // Beyond 2^53 the numbers would silently change when printed back.
  if (!numbers.every(Number.isSafeInteger)) return undefined;
  return {
    major: numbers[0],
    minor: numbers[1],
    patch: numbers[2],
    prerelease,
    build: build ? build.split('.') : [],
    version: `${major}.${minor}.${patch}${pre ? `-${pre}` : ''}`,
  };
}
