import { afterAll, describe, expect, test } from 'bun:test';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectMetadataFrom, readProjectMetadata, type ProjectMetadata } from './project-metadata';

describe('projectMetadataFrom', () => {
  const cases: [string, Record<string, unknown> | undefined, Record<string, unknown> | undefined, ProjectMetadata][] = [
    ['nothing', undefined, undefined, {}],
    ['full package.json', {
      name: '@acme/api', version: '1.2.3', description: ' The API ', license: 'MIT',
      author: 'Jane Doe <jane@acme.io> (https://jane.dev)', homepage: 'https://acme.io/api',
      repository: { type: 'git', url: 'git+https://github.com/acme/mono.git', directory: 'apps/api' },
    }, undefined, {
      name: '@acme/api', version: '1.2.3', description: 'The API', license: 'MIT',
      authors: 'Jane Doe <jane@acme.io>', homepage: 'https://acme.io/api', repositoryUrl: 'https://github.com/acme/mono',
    }],
    ['project.json fills what package.json lacks', { description: 'pkg' }, { name: 'api', version: '0.1.0', description: 'proj' }, { name: 'api', version: '0.1.0', description: 'pkg' }],
    ['package.json wins', { name: 'pkg', version: '2.0.0' }, { name: 'proj', version: '1.0.0' }, { name: 'pkg', version: '2.0.0' }],
    ['author object', { author: { name: 'Acme', email: 'dev@acme.io', url: 'https://acme.io' } }, undefined, { authors: 'Acme <dev@acme.io>' }],
    ['author object, name only', { author: { name: 'Acme' } }, undefined, { authors: 'Acme' }],
    ['author object, email only', { author: { email: 'dev@acme.io' } }, undefined, { authors: '<dev@acme.io>' }],
    ['license object', { license: { type: 'Apache-2.0' } }, undefined, { license: 'Apache-2.0' }],
    ['legacy licenses array', { licenses: [{ type: 'MIT' }, { type: 'GPL-3.0' }] }, undefined, { license: 'MIT OR GPL-3.0' }],
    ['github shorthand', { repository: 'github:acme/mono' }, undefined, { repositoryUrl: 'https://github.com/acme/mono' }],
    ['gitlab shorthand', { repository: 'gitlab:acme/mono' }, undefined, { repositoryUrl: 'https://gitlab.com/acme/mono' }],
    ['bitbucket shorthand', { repository: 'bitbucket:acme/mono' }, undefined, { repositoryUrl: 'https://bitbucket.org/acme/mono' }],
    ['bare shorthand is GitHub', { repository: 'acme/mono' }, undefined, { repositoryUrl: 'https://github.com/acme/mono' }],
    ['scp-like repository', { repository: 'git@gitlab.com:acme/mono.git' }, undefined, { repositoryUrl: 'https://gitlab.com/acme/mono' }],
    ['wrong types are ignored', { name: 42, version: null, author: ['x'], license: 7, repository: 5 }, { name: false }, {}],
    ['empty strings are ignored', { name: '', description: '   ' }, undefined, {}],
  ];
  test.each(cases)('%s', (_name, pkg, project, expected) => expect(projectMetadataFrom(pkg, project)).toEqual(expected));
});

describe('readProjectMetadata', () => {
  const root = mkdtempSync(join(tmpdir(), 'nxbk-meta-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const project = (name: string, files: Record<string, string>) => {
    const dir = join(root, name);
    mkdirSync(dir);
    for (const [file, content] of Object.entries(files)) writeFileSync(join(dir, file), content);
    return dir;
  };

  test('reads package.json and project.json from the project root', async () => {
    const dir = project('both', {
      'package.json': JSON.stringify({ name: '@acme/web', license: 'MIT' }),
      'project.json': JSON.stringify({ name: 'web', version: '3.1.4' }),
    });
    expect(await readProjectMetadata(dir)).toEqual({ name: '@acme/web', version: '3.1.4', license: 'MIT' });
  });

  test('a project without manifests has no metadata', async () => {
    expect(await readProjectMetadata(project('empty', {}))).toEqual({});
  });

  test('invalid JSON is an error naming the file', async () => {
    const dir = project('broken', { 'package.json': '{ "name": ' });
    const error = await readProjectMetadata(dir).catch((e: unknown) => e);
    expect((error as Error).message).toContain(join(dir, 'package.json'));
    expect((error as Error).message).toContain('is not valid JSON');
  });

  test('a manifest that is not an object is an error', async () => {
    const dir = project('array', { 'project.json': '[]' });
    await expect(readProjectMetadata(dir)).rejects.toThrow(`${join(dir, 'project.json')} must contain a JSON object`);
  });

  test('honours an aborted signal', async () => {
    const dir = project('abort', { 'package.json': '{}' });
    const error = await readProjectMetadata(dir, { signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('cancelled');
  });
});
