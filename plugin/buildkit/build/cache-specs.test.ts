import { describe, expect, test } from 'bun:test';
import { BuildkitError } from '../errors';
import type { CacheSpec } from './build-spec';
import { validateCacheSpecs } from './cache-specs';

const entry = (type: string, attrs: Record<string, string> = {}) => ({ type, attrs }) as CacheSpec;

describe('validateCacheSpecs', () => {
  const accepted: Array<[string, { cacheFrom?: CacheSpec[]; cacheTo?: CacheSpec[] }]> = [
    ['no cache at all', {}],
    ['registry import and export with a ref', { cacheFrom: [entry('registry', { ref: 'r/c:1' })], cacheTo: [entry('registry', { ref: 'r/c:1', mode: 'max' })] }],
    ['local import with src, export with dest', { cacheFrom: [entry('local', { src: '/c' })], cacheTo: [entry('local', { dest: '/c', mode: 'min' })] }],
    ['inline export needs no attribute', { cacheTo: [entry('inline')] }],
    ['gha with url and token (scope optional)', { cacheFrom: [entry('gha', { url: 'https://x/', token: 't' })], cacheTo: [entry('gha', { url: 'https://x/', token: 't', scope: 'main' })] }],
    ['s3 with bucket and region', { cacheTo: [entry('s3', { bucket: 'b', region: 'eu-west-1' })] }],
    ['azblob with account_url', { cacheFrom: [entry('azblob', { account_url: 'https://acct.blob.core.windows.net' })] }],
    ['unknown attributes pass', { cacheTo: [entry('registry', { ref: 'r', 'image-manifest': 'true', whatever: 'x' })] }],
  ];
  for (const [name, spec] of accepted) {
    test(`accepts ${name}`, () => expect(() => validateCacheSpecs(spec)).not.toThrow());
  }

  const rejected: Array<[string, { cacheFrom?: CacheSpec[]; cacheTo?: CacheSpec[] }, RegExp]> = [
    ['an unknown type', { cacheFrom: [entry('registry', { ref: 'r' }), entry('nfs', {})] }, /^cacheFrom\[1\]: unknown cache type "nfs" \(expected one of registry, local, inline, gha, s3, azblob\)$/],
    ['a missing type', { cacheTo: [{ attrs: {} } as unknown as CacheSpec] }, /^cacheTo\[0\]: unknown cache type undefined/],
    ['an inherited property as type', { cacheTo: [entry('toString')] }, /^cacheTo\[0\]: unknown cache type "toString"/],
    ['registry without ref', { cacheTo: [entry('registry', { mode: 'max' })] }, /^cacheTo\[0\] \(type=registry\): missing attribute "ref"$/],
    ['registry with an empty ref', { cacheFrom: [entry('registry', { ref: '' })] }, /^cacheFrom\[0\] \(type=registry\): missing attribute "ref"$/],
    ['local import with dest only', { cacheFrom: [entry('local', { dest: '/c' })] }, /^cacheFrom\[0\] \(type=local\): missing attribute "src"$/],
    ['local export with src only', { cacheTo: [entry('local', { src: '/c' })] }, /^cacheTo\[0\] \(type=local\): missing attribute "dest"$/],
    ['inline as an import', { cacheFrom: [entry('inline')] }, /^cacheFrom\[0\] \(type=inline\): "inline" cannot be used to import cache; .*type "registry"/],
    ['gha without token', { cacheTo: [entry('gha', { url: 'https://x/' })] }, /^cacheTo\[0\] \(type=gha\): missing attribute "token"$/],
    ['gha without url', { cacheFrom: [entry('gha', { token: 't', scope: 's' })] }, /^cacheFrom\[0\] \(type=gha\): missing attribute "url"$/],
    ['s3 without region', { cacheTo: [entry('s3', { bucket: 'b' })] }, /^cacheTo\[0\] \(type=s3\): missing attribute "region"$/],
    ['s3 without bucket', { cacheFrom: [entry('s3', { region: 'r' })] }, /^cacheFrom\[0\] \(type=s3\): missing attribute "bucket"$/],
    ['azblob with only a name', { cacheTo: [entry('azblob', { name: 'main' })] }, /^cacheTo\[0\] \(type=azblob\): missing attribute "account_url"$/],
    ['an export mode other than min or max', { cacheTo: [entry('registry', { ref: 'r', mode: 'all' })] }, /^cacheTo\[0\] \(type=registry\): attribute "mode" must be "min" or "max", not "all"$/],
  ];
  for (const [name, spec, message] of rejected) {
    test(`rejects ${name}`, () => {
      let error: unknown;
      try {
        validateCacheSpecs(spec);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(BuildkitError);
      expect((error as BuildkitError).code).toBe('invalid-argument');
      expect((error as BuildkitError).message).toMatch(message);
    });
  }

  test('leaves the entries unchanged', () => {
    const spec = { cacheTo: [entry('registry', { ref: 'r', mode: 'max' })] };
    const before = JSON.stringify(spec);
    validateCacheSpecs(spec);
    expect(JSON.stringify(spec)).toBe(before);
  });
});
