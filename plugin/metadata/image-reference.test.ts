import { describe, expect, test } from 'bun:test';
import { BuildkitError } from '../buildkit/index';
import { isValidTag, normalizeImageReference, parseImageReference, sameRepository } from './image-reference';

const D256 = `sha256:${'a'.repeat(64)}`;

describe('parseImageReference', () => {
  const valid: [string, { registry: string; path: string; tag?: string; digest?: string }, string][] = [
    ['nginx', { registry: 'docker.io', path: 'library/nginx' }, 'docker.io/library/nginx:latest'],
    ['nginx:1.27', { registry: 'docker.io', path: 'library/nginx', tag: '1.27' }, 'docker.io/library/nginx:1.27'],
    ['team/app', { registry: 'docker.io', path: 'team/app' }, 'docker.io/team/app:latest'],
    ['docker.io/app', { registry: 'docker.io', path: 'library/app' }, 'docker.io/library/app:latest'],
    ['index.docker.io/library/app:v1', { registry: 'docker.io', path: 'library/app', tag: 'v1' }, 'docker.io/library/app:v1'],
    ['localhost/app', { registry: 'localhost', path: 'app' }, 'localhost/app:latest'],
    ['localhost:5000/team/app:1.0', { registry: 'localhost:5000', path: 'team/app', tag: '1.0' }, 'localhost:5000/team/app:1.0'],
    ['127.0.0.1:5000/app', { registry: '127.0.0.1:5000', path: 'app' }, '127.0.0.1:5000/app:latest'],
    ['[::1]:5000/app:x', { registry: '[::1]:5000', path: 'app', tag: 'x' }, '[::1]:5000/app:x'],
    ['registry.example.com/team/sub/app', { registry: 'registry.example.com', path: 'team/sub/app' }, 'registry.example.com/team/sub/app:latest'],
    ['Registry/app', { registry: 'Registry', path: 'app' }, 'Registry/app:latest'],
    ['my-app__x.y_z', { registry: 'docker.io', path: 'library/my-app__x.y_z' }, 'docker.io/library/my-app__x.y_z:latest'],
    ['a--b', { registry: 'docker.io', path: 'library/a--b' }, 'docker.io/library/a--b:latest'],
    [`app@${D256}`, { registry: 'docker.io', path: 'library/app', digest: D256 }, `docker.io/library/app@${D256}`],
    [`ghcr.io/o/app:1@${D256}`, { registry: 'ghcr.io', path: 'o/app', tag: '1', digest: D256 }, `ghcr.io/o/app:1@${D256}`],
    [`app:_T.a-g`, { registry: 'docker.io', path: 'library/app', tag: '_T.a-g' }, 'docker.io/library/app:_T.a-g'],
    [`app:${'t'.repeat(128)}`, { registry: 'docker.io', path: 'library/app', tag: 't'.repeat(128) }, `docker.io/library/app:${'t'.repeat(128)}`],
  ];
  test.each(valid)('%s', (input, expected, normalized) => {
    const ref = parseImageReference(input);
    expect(ref.registry).toBe(expected.registry);
    expect(ref.path).toBe(expected.path);
    expect(ref.repository).toBe(`${expected.registry}/${expected.path}`);
    expect(ref.tag).toBe(expected.tag);
    expect(ref.digest).toBe(expected.digest);
    expect(normalizeImageReference(input)).toBe(normalized);
    expect(normalizeImageReference(ref)).toBe(normalized);
  });

  const invalid: [string, string][] = [
    ['', 'empty'],
    ['app name', 'whitespace'],
    ['a'.repeat(64), 'image ID'],
    ['App', 'must be lowercase'],
    ['team/App', 'must be lowercase'],
    ['ghcr.io/Team/app', 'must be lowercase'],
    [':tag', 'repository name is empty'],
    ['team//app', 'empty component'],
    ['app/', 'empty component'],
    ['-app', '"-app" is not a valid repository path component'],
    ['app_', 'not a valid repository path component'],
    ['a___b', 'not a valid repository path component'],
    ['app:-x', '"-x" is not a valid tag'],
    ['app:a/b', '"app:a" is not a valid registry'],
    [`app:${'t'.repeat(129)}`, 'not a valid tag'],
    ['app:', '"" is not a valid tag'],
    ['bad_host.example.com/app', 'not a valid registry'],
    ['-host.io/app', 'not a valid registry'],
    ['app@sha256:abc', 'not a valid digest'],
    [`app@md5:${'a'.repeat(32)}`, 'unsupported digest algorithm'],
    [`app@sha256:${'a'.repeat(63)}`, 'needs 64 lowercase hex'],
    [`app@sha256:${'A'.repeat(64)}`, 'needs 64 lowercase hex'],
    [`${'a'.repeat(250)}/${'b'.repeat(10)}`, 'longer than 255'],
  ];
  test.each(invalid)('rejects %p', (input, message) => {
    let error: unknown;
    try {
      parseImageReference(input);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).code).toBe('invalid-argument');
    expect((error as BuildkitError).message).toContain(`invalid image reference "${input}"`);
    expect((error as BuildkitError).message).toContain(message);
  });
});

describe('sameRepository', () => {
  const cases: [string, string, boolean][] = [
    ['app', 'docker.io/library/app:latest', true],
    ['app:1', `app@${D256}`, true],
    ['index.docker.io/library/app', 'app', true],
    ['library/app', 'app', true],
    ['team/app', 'app', false],
    ['localhost:5000/app', 'localhost:5000/app:v2', true],
    ['localhost:5000/app', 'localhost:5001/app', false],
    ['localhost:5000/app', 'app', false],
    ['Registry.Example.com/app', 'registry.example.com/app:1', true],
    ['ghcr.io/o/app', 'ghcr.io/o/app2', false],
  ];
  test.each(cases)('%s vs %s → %p', (a, b, expected) => {
    expect(sameRepository(a, b)).toBe(expected);
    expect(sameRepository(parseImageReference(b), a)).toBe(expected);
  });

  test('an invalid reference throws instead of comparing false', () => {
    expect(() => sameRepository('App', 'app')).toThrow('must be lowercase');
  });
});

describe('isValidTag', () => {
  const cases: [string, boolean][] = [
    ['latest', true], ['v1.2.3-rc.1', true], ['_x', true], ['A_b.C-d', true], ['t'.repeat(128), true],
    ['', false], ['.x', false], ['-x', false], ['a/b', false], ['a+b', false], ['t'.repeat(129), false], ['é', false],
  ];
  test.each(cases)('%p → %p', (tag, expected) => expect(isValidTag(tag)).toBe(expected));
});
