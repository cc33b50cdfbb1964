import { describe, expect, test } from 'bun:test';
import { parseSemver } from './semver';

describe('parseSemver', () => {
  const valid: [string, number, number, number, string[], string[], string][] = [
    ['1.2.3', 1, 2, 3, [], [], '1.2.3'],
    ['v1.2.3', 1, 2, 3, [], [], '1.2.3'],
    ['0.0.0', 0, 0, 0, [], [], '0.0.0'],
    ['10.20.30', 10, 20, 30, [], [], '10.20.30'],
    ['1.2.3-rc.1', 1, 2, 3, ['rc', '1'], [], '1.2.3-rc.1'],
    ['1.0.0-alpha-a.b-c', 1, 0, 0, ['alpha-a', 'b-c'], [], '1.0.0-alpha-a.b-c'],
    ['1.0.0-0A.is.legal', 1, 0, 0, ['0A', 'is', 'legal'], [], '1.0.0-0A.is.legal'],
    ['1.2.3+build.5', 1, 2, 3, [], ['build', '5'], '1.2.3'],
    ['1.2.3-beta+exp.sha.5114f85', 1, 2, 3, ['beta'], ['exp', 'sha', '5114f85'], '1.2.3-beta'],
    ['0.0.0-development', 0, 0, 0, ['development'], [], '0.0.0-development'],
  ];
  test.each(valid)('%s', (text, major, minor, patch, prerelease, build, version) => {
    expect(parseSemver(text)).toEqual({ major, minor, patch, prerelease, build, version });
  });

  const invalid = ['', '1', '1.2', '1.2.3.4', '01.2.3', '1.02.3', '1.2.03', '1.2.3-', '1.2.3-01', '1.2.3-a..b', '1.2.3+', 'V1.2.3', 'latest', ' 1.2.3', '1.2.3-é', '99999999999999999999.0.0'];
  test.each(invalid)('rejects %p', (text) => expect(parseSemver(text)).toBeUndefined());
});
