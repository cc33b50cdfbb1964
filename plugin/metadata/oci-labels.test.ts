import { describe, expect, test } from 'bun:test';
import type { GitInfo, GitRepositoryInfo } from './git-info';
import { ociLabels, type OciLabelOptions } from './oci-labels';
import type { ProjectMetadata } from './project-metadata';

const SHA = 'fedcba9876543210fedcba9876543210fedcba98';
const git: GitRepositoryInfo = {
  kind: 'repository', root: '/w', sha: SHA, shortSha: SHA.slice(0, 7), branch: 'main', branchSource: 'git', detached: false,
  tag: 'v9.9.9', tags: ['v9.9.9'], remoteUrl: 'git@github.com:acme/mono.git', webUrl: 'https://github.com/acme/mono',
  commitTime: '2024-01-02T03:04:05.000Z',
};
const noGit: GitInfo = { kind: 'unavailable', dir: '/w', reason: 'not a git repository' };
const project: ProjectMetadata = {
  name: '@acme/api', version: '1.2.3', description: 'The API', license: 'MIT', authors: 'Jane <jane@acme.io>',
};
const now = new Date('2024-06-30T12:00:00.000Z');
const P = 'org.opencontainers.image.';

describe('ociLabels', () => {
  test('generates every label from git and the manifest, in a fixed order', () => {
    const labels = ociLabels({ git, project, now, tags: ['1.2.3', 'latest'] });
    expect(labels).toEqual({
      [`${P}created`]: '2024-06-30T12:00:00.000Z',
      [`${P}revision`]: SHA,
      [`${P}source`]: 'https://github.com/acme/mono',
      [`${P}url`]: 'https://github.com/acme/mono',
      [`${P}version`]: '1.2.3',
      [`${P}title`]: '@acme/api',
      [`${P}description`]: 'The API',
      [`${P}licenses`]: 'MIT',
      [`${P}vendor`]: 'acme',
      [`${P}authors`]: 'Jane <jane@acme.io>',
      [`${P}ref.name`]: '1.2.3',
    });
    expect(Object.keys(labels).map((k) => k.slice(P.length))).toEqual([
      'created', 'revision', 'source', 'url', 'version', 'title', 'description', 'licenses', 'vendor', 'authors', 'ref.name',
    ]);
  });

  const cases: [string, Partial<OciLabelOptions>, Record<string, string | undefined>][] = [
    ['created from the commit', { created: 'commit' }, { created: '2024-01-02T03:04:05.000Z' }],
    ['created falls back to now without git', { created: 'commit', git: noGit }, { created: '2024-06-30T12:00:00.000Z' }],
    ['homepage is the url', { project: { ...project, homepage: 'https://acme.io' } }, { url: 'https://acme.io', source: 'https://github.com/acme/mono' }],
    ['the declared repository wins over the git remote', { project: { ...project, repositoryUrl: 'https://gitlab.com/other/repo' } }, { source: 'https://gitlab.com/other/repo', url: 'https://gitlab.com/other/repo', vendor: 'other' }],
    ['version falls back to the git tag', { project: { name: 'x' } }, { version: 'v9.9.9' }],
    ['title falls back to the project name', { project: {}, projectName: 'api' }, { title: 'api' }],
    ['explicit vendor', { vendor: 'ACME Corp' }, { vendor: 'ACME Corp' }],
    ['no tags, no ref.name', { tags: [] }, { 'ref.name': undefined }],
    ['no git: no revision, source or vendor', { git: noGit }, { revision: undefined, source: undefined, url: undefined, vendor: undefined, version: '1.2.3' }],
    ['no web URL, no vendor', { git: { ...git, webUrl: undefined } }, { source: undefined, vendor: undefined }],
  ];
  test.each(cases)('%s', (_name, over, expected) => {
    const labels = ociLabels({ git, project, now, tags: ['1.2.3'], ...over });
    for (const [key, value] of Object.entries(expected)) expect(labels[P + key]).toBe(value);
  });

  test('empty metadata gives no empty labels', () => {
    const labels = ociLabels({ git: noGit, project: { description: '' }, now });
    expect(labels).toEqual({ [`${P}created`]: '2024-06-30T12:00:00.000Z' });
  });

  test('user labels override generated ones and are added', () => {
    const labels = ociLabels({ git, project, now, labels: { [`${P}title`]: 'Custom', 'com.acme.team': 'core' } });
    expect(labels[`${P}title`]).toBe('Custom');
    expect(labels['com.acme.team']).toBe('core');
    expect(labels[`${P}revision`]).toBe(SHA);
  });

  test('generation can be turned off', () => {
    expect(ociLabels({ git, project, now, generate: false, labels: { a: 'b' } })).toEqual({ a: 'b' });
    expect(ociLabels({ git, project, now, generate: false })).toEqual({});
  });
});
