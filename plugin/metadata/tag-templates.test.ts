import { describe, expect, test } from 'bun:test';
import { BuildkitError } from '../buildkit/index';
import type { GitInfo, GitRepositoryInfo } from './git-info';
import { expandTagTemplates, type TagTemplateContext } from './tag-templates';

const SHA = '0123456789abcdef0123456789abcdef01234567';
const repo = (over: Partial<GitRepositoryInfo> = {}): GitRepositoryInfo => ({
  kind: 'repository', root: '/w', sha: SHA, shortSha: SHA.slice(0, 7), branch: 'feature/Login', branchSource: 'git',
  detached: false, tag: 'v1.4.0', tags: ['v1.4.0'], commitTime: '2024-01-02T03:04:05.000Z', ...over,
});
const noGit: GitInfo = { kind: 'unavailable', dir: '/w', reason: '/w is not a git repository (not a git repository)' };
const now = new Date('2024-06-30T22:15:09.000Z');
const context = (over: Partial<TagTemplateContext> = {}): TagTemplateContext => ({
  git: repo(), version: '1.4.0', now, images: ['ghcr.io/acme/api'], ...over,
});
const tagsOf = (templates: string[], ctx = context()) => expandTagTemplates(templates, ctx).tags.map((t) => t.reference);
const errorOf = (templates: string[], ctx = context()): BuildkitError => {
  try {
    expandTagTemplates(templates, ctx);
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    expect((err as BuildkitError).code).toBe('invalid-argument');
    return err as BuildkitError;
  }
  throw new Error('expected an error');
};

describe('expandTagTemplates: placeholders', () => {
  const cases: [string, string, Partial<TagTemplateContext>?][] = [
    ['latest', 'latest'],
    ['{{sha}}', SHA.slice(0, 7)],
    ['{{sha:short}}', SHA.slice(0, 7)],
    ['{{sha:long}}', SHA],
    ['{{sha:12}}', SHA.slice(0, 12)],
    ['sha-{{ sha }}', `sha-${SHA.slice(0, 7)}`],
    ['{{branch}}', 'feature-login'],
    ['{{branch}}', 'main', { git: repo({ branch: 'main', detached: true, branchSource: 'GITHUB_REF_NAME' }) }],
    ['{{tag}}', 'v1.4.0'],
    ['{{tag}}', 'api-v2', { git: repo({ tag: 'api/v2', tags: ['api/v2'] }) }],
    ['{{version}}', '1.4.0'],
    ['v{{version}}', 'v1.4.0'],
    ['{{version}}', '1.4.0', { version: 'v1.4.0' }],
    ['{{version}}', '2.0.0-rc.1', { version: '2.0.0-rc.1+build.7' }],
    ['{{version}}', '1.4.0', { version: '1.4.0+build.7' }],
    ['{{version:major}}', '1'],
    ['{{version:major.minor}}', '1.4'],
    ['{{version:major}}', '0', { version: '0.3.1' }],
    ['{{date}}', '20240630'],
    ['{{date:YYYYMMDD}}', '20240630'],
    ['nightly-{{date:YYYYMMDD-HHmmss}}', 'nightly-20240630-221509'],
    ['{{commit-date:YYYYMMDD}}', '20240102'],
    ['v{{version}}-{{sha}}', `v1.4.0-${SHA.slice(0, 7)}`],
    ['{{branch}}-{{sha:8}}', `feature-login-${SHA.slice(0, 8)}`],
  ];
  // Every row gets its third element: bun passes a done callback to a parameter a row leaves unset.
  test.each(cases.map(([t, tag, over]) => [t, tag, over ?? {}] as const))('%s → %s', (template, tag, over) => {
    const { tags, dropped } = expandTagTemplates([template], context(over));
    expect(dropped).toEqual([]);
    expect(tags).toEqual([{ template, image: 'ghcr.io/acme/api', tag, reference: `ghcr.io/acme/api:${tag}` }]);
  });
});

describe('expandTagTemplates: image names', () => {
  test('a tag-only template applies to every configured image, in template then image order', () => {
    expect(tagsOf(['{{sha}}', 'latest'], context({ images: ['ghcr.io/acme/api', 'localhost:5000/api'] }))).toEqual([
      `ghcr.io/acme/api:${SHA.slice(0, 7)}`, `localhost:5000/api:${SHA.slice(0, 7)}`, 'ghcr.io/acme/api:latest', 'localhost:5000/api:latest',
    ]);
  });

  const full: [string, string, string][] = [
    ['registry.example.com/team/app:{{sha}}', 'registry.example.com/team/app', SHA.slice(0, 7)],
    ['localhost:5000/app:{{version}}', 'localhost:5000/app', '1.4.0'],
    ['app:edge', 'app', 'edge'],
    ['team/app:{{date:YYYY}}', 'team/app', '2024'],
  ];
  test.each(full)('a full reference %s uses its own name', (template, image, tag) => {
    const { tags } = expandTagTemplates([template], context());
    expect(tags).toEqual([{ template, image, tag, reference: `${image}:${tag}` }]);
  });

  test('duplicates are removed, the first kept', () => {
    const { tags } = expandTagTemplates(['{{version}}', '1.4.0', 'ghcr.io/acme/api:1.4.0', '{{tag}}'], context());
    expect(tags.map((t) => [t.template, t.reference])).toEqual([
      ['{{version}}', 'ghcr.io/acme/api:1.4.0'],
      ['{{tag}}', 'ghcr.io/acme/api:v1.4.0'],
    ]);
  });

  test('no templates give no tags', () => {
    expect(expandTagTemplates([], context())).toEqual({ tags: [], dropped: [] });
  });
});

describe('expandTagTemplates: dropped templates', () => {
  const cases: [string, Partial<TagTemplateContext>, string][] = [
    ['{{tag}}', { git: repo({ tag: undefined, tags: [] }) }, 'no git tag points at HEAD'],
    ['v{{tag}}-x', { git: repo({ tag: undefined, tags: [] }) }, 'no git tag points at HEAD'],
    ['{{branch}}', { git: repo({ branch: undefined, branchSource: undefined, detached: true }) }, 'HEAD is detached and no CI variable names a branch'],
    ['{{branch}}', { git: repo({ branch: '...' }) }, 'branch "..." has no characters usable in a tag'],
    ['{{version:major}}', { version: '2.0.0-rc.1' }, '2.0.0-rc.1 is a pre-release, which gets no major tag'],
    ['{{version:major.minor}}', { version: '2.0.0-beta' }, '2.0.0-beta is a pre-release, which gets no major.minor tag'],
  ];
  test.each(cases)('%s', (template, over, reason) => {
    const { tags, dropped } = expandTagTemplates([template, 'kept'], context(over));
    expect(tags.map((t) => t.tag)).toEqual(['kept']);
    expect(dropped).toEqual([{ template, reason }]);
  });
});

describe('expandTagTemplates: errors name the template', () => {
  const cases: [string, Partial<TagTemplateContext>, string][] = [
    ['{{sha}}', { git: noGit }, 'tag template "{{sha}}" needs git for {{sha}}, but /w is not a git repository'],
    ['{{branch}}', { git: noGit }, 'needs git for {{branch}}'],
    ['{{tag}}', { git: noGit }, 'needs git for {{tag}}'],
    ['{{commit-date}}', { git: noGit }, 'needs git for {{commit-date}}'],
    ['{{version}}', { version: undefined }, 'tag template "{{version}}" needs the project version'],
    ['{{version}}', { version: '1.2' }, 'needs a semantic version, but the project version is "1.2"'],
    ['{{version:minor}}', {}, 'the argument is major or major.minor'],
    ['{{sha:3}}', {}, 'a length from 4 to 40'],
    ['{{sha:abc}}', {}, 'the argument is short, long'],
    ['{{branch:x}}', {}, '{{branch}} takes no argument'],
    ['{{nope}}', {}, 'uses unknown placeholder {{nope}} (known: sha'],
    ['{{date:yyyy}}', {}, 'tag template "{{date:yyyy}}" has {{date:yyyy}}: unknown date token "y"'],
    ['{{sha', {}, 'unbalanced'],
    ['x}}', {}, 'unbalanced'],
    ['', {}, 'gives an empty tag'],
    ['-{{sha}}', {}, `gives "-${SHA.slice(0, 7)}", which is not a valid tag`],
    ['v{{version}}+meta', {}, 'not a valid tag'],
    [`{{sha:long}}${'x'.repeat(100)}`, {}, 'not a valid tag'],
    ['registry.example.com/app', {}, 'names an image but has no tag part'],
    ['localhost:5000/app', {}, 'names an image but has no tag part'],
    ['{{branch}}/app:x', {}, 'has a placeholder in its image name'],
    ['Team/App:x', {}, 'has an invalid image name: invalid image reference "Team/App": the repository name "App" must be lowercase'],
    ['app:', {}, 'gives an empty tag'],
    ['{{sha}}', { images: [] }, 'is a tag only, but no image name is configured'],
    ['{{sha}}', { images: undefined }, 'is a tag only, but no image name is configured'],
  ];
  test.each(cases)('%p', (template, over, message) => {
    expect(errorOf([template], context(over)).message).toContain(message);
  });

  test('every failing template is listed in one error', () => {
    const message = errorOf(['ok', '{{nope}}', '{{sha}}', 'also ok', '{{version}}'], context({ git: noGit, version: undefined })).message;
    expect(message).toContain('invalid tag templates:');
    expect(message).toContain('- tag template "{{nope}}"');
    expect(message).toContain('- tag template "{{sha}}"');
    expect(message).toContain('- tag template "{{version}}"');
    expect(message).not.toContain('"ok"');
  });

  test('configured image names are validated', () => {
    expect(errorOf(['x'], context({ images: ['ghcr.io/acme/api:1'] })).message).toContain('image name "ghcr.io/acme/api:1" must not include a tag or digest');
    expect(errorOf(['x'], context({ images: ['Bad Name'] })).message).toContain('invalid image reference "Bad Name"');
  });

  test('templates without git placeholders work without git', () => {
    expect(tagsOf(['latest', '{{version}}', '{{date}}'], context({ git: noGit }))).toEqual([
      'ghcr.io/acme/api:latest', 'ghcr.io/acme/api:1.4.0', 'ghcr.io/acme/api:20240630',
    ]);
  });
});

describe('expandTagTemplates: flavor (docker/metadata-action)', () => {
  test('prefix and suffix go around every tag but latest', () => {
    expect(tagsOf(['{{version}}', 'latest', 'sha-{{sha}}'], context({ flavor: { prefix: 'api-', suffix: '-alpine' } }))).toEqual([
      'ghcr.io/acme/api:api-1.4.0-alpine',
      'ghcr.io/acme/api:latest',
      'ghcr.io/acme/api:api-sha-0123456-alpine',
    ]);
  });

  test('latest=true adds latest, latest=false drops it (reported as dropped), auto keeps the templates', () => {
    expect(tagsOf(['{{version}}'], context({ flavor: { latest: 'true' } }))).toEqual(['ghcr.io/acme/api:1.4.0', 'ghcr.io/acme/api:latest']);
    const off = expandTagTemplates(['{{version}}', 'latest'], context({ flavor: { latest: 'false' } }));
    expect(off.tags.map((t) => t.reference)).toEqual(['ghcr.io/acme/api:1.4.0']);
    expect(off.dropped).toEqual([{ template: 'latest', reason: 'flavor latest=false' }]);
    expect(tagsOf(['latest'], context({ flavor: { latest: 'auto' } }))).toEqual(['ghcr.io/acme/api:latest']);
  });
});

describe('expandTagTemplates: {{pr}} and {{ref}} (docker/metadata-action type=ref)', () => {
  const pr = { pullRequest: { number: '42', variable: 'GITHUB_REF' }, branch: { name: 'feature/X', variable: 'GITHUB_HEAD_REF' } };
  const tagBuild = { tag: { name: 'API/v1.2', variable: 'CI_COMMIT_TAG' } };
  const cases: [string, string, Partial<TagTemplateContext>][] = [
    ['pr-{{pr}}', 'pr-42', { ci: pr }],
    ['{{ref}}', 'pr-42', { ci: pr }],
    ['{{ref}}', 'api-v1.2', { ci: tagBuild }],
    ['{{ref}}', 'feature-login', {}],
    ['{{ref}}', 'release-2', { git: repo({ branch: undefined, detached: true }), ci: { branch: { name: 'Release/2', variable: 'CI_COMMIT_BRANCH' } } }],
    ['{{ref}}', 'v1.4.0', { git: repo({ branch: undefined, detached: true }) }],
    ['{{ref}}', 'main', { git: noGit, ci: { branch: { name: 'main', variable: 'CIRCLE_BRANCH' } } }],
    ['{{branch}}-{{pr}}', 'feature-login-42', { ci: pr }],
  ];
  test.each(cases)('%s gives %s', (template, expected, over) => expect(tagsOf([template], context(over))).toEqual([`ghcr.io/acme/api:${expected}`]));

  test('outside a pull request {{pr}} is dropped, and {{ref}} without any ref too', () => {
    const result = expandTagTemplates(['pr-{{pr}}', '{{ref}}', 'latest'], context({ git: repo({ branch: undefined, tag: undefined, tags: [], detached: true }) }));
    expect(result.tags.map((t) => t.tag)).toEqual(['latest']);
    expect(result.dropped).toEqual([
      { template: 'pr-{{pr}}', reason: 'not a pull/merge request build (no CI variable names one)' },
      { template: '{{ref}}', reason: 'no pull request, tag or branch names this build' },
    ]);
  });

  test('the flavor applies as to any tag, and arguments are refused', () => {
    expect(tagsOf(['{{ref}}'], context({ ci: pr, flavor: { prefix: 'web-' } }))).toEqual(['ghcr.io/acme/api:web-pr-42']);
    expect(errorOf(['{{pr:x}}']).message).toBe('tag template "{{pr:x}}" has {{pr:x}}, but {{pr}} takes no argument');
  });
});
