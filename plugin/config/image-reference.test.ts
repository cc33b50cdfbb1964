import { describe, expect, test } from 'bun:test';
import { defaultImageRepository, imageMatchKey, parseImageReference, projectImageKeys } from './image-reference';

describe('parseImageReference', () => {
  test.each<[string, ReturnType<typeof parseImageReference>]>([
    ['base', { repository: 'docker.io/library/base', tag: 'latest' }],
    ['base:1.2', { repository: 'docker.io/library/base', tag: '1.2' }],
    ['docker.io/library/base:latest', { repository: 'docker.io/library/base', tag: 'latest' }],
    ['index.docker.io/library/base', { repository: 'docker.io/library/base', tag: 'latest' }],
    ['team/base', { repository: 'docker.io/team/base', tag: 'latest' }],
    ['localhost/base', { repository: 'localhost/base', tag: 'latest' }],
    ['127.0.0.1:5000/base:dev', { repository: '127.0.0.1:5000/base', tag: 'dev' }],
    ['registry.local:5000/team/app-b', { repository: 'registry.local:5000/team/app-b', tag: 'latest' }],
    ['base@sha256:abcd', { repository: 'docker.io/library/base', digest: 'sha256:abcd' }],
    ['base:1@sha256:abcd', { repository: 'docker.io/library/base', tag: '1', digest: 'sha256:abcd' }],
    ['Base', undefined],
    ['${BASE}', undefined],
    ['base:', undefined],
    ['-base', undefined],
  ])('%s', (ref, expected) => {
    expect(parseImageReference(ref)).toEqual(expected);
  });
});

describe('imageMatchKey', () => {
  test('equivalent spellings share one key', () => {
    const keys = new Set(['base', 'base:latest', 'docker.io/base', 'docker.io/library/base:latest', 'index.docker.io/library/base'].map(imageMatchKey));
    expect([...keys]).toEqual(['docker.io/library/base:latest']);
  });
  test('different tags and registries differ', () => {
    expect(imageMatchKey('base:dev')).not.toBe(imageMatchKey('base'));
    expect(imageMatchKey('localhost:5000/base')).not.toBe(imageMatchKey('base'));
  });
  test('digest-pinned references never match a built image', () => {
    expect(imageMatchKey('base@sha256:abcd')).toBeUndefined();
  });
});

describe('defaultImageRepository', () => {
  test.each([
    ['api', 'api'],
    ['My_App', 'my_app'],
    ['@org/api', 'org/api'],
    ['web app', 'web-app'],
  ])('%s → %s', (name, repo) => {
    expect(defaultImageRepository(name)).toBe(repo);
    expect(imageMatchKey(repo)).toBeDefined();
  });
});

describe('projectImageKeys', () => {
  test('defaults: project name, tag latest', () => {
    expect(projectImageKeys('base', {})).toEqual(['docker.io/library/base:latest']);
  });
  test('imageName and every tag', () => {
    expect(projectImageKeys('base', { imageName: '127.0.0.1:5000/nxbk/base', tags: ['1.0', 'latest'] })).toEqual([
      '127.0.0.1:5000/nxbk/base:1.0',
      '127.0.0.1:5000/nxbk/base:latest',
    ]);
  });
});
