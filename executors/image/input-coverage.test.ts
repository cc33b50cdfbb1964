import { describe, expect, test } from 'bun:test';
import { uncoveredReads, type CoverageQuery } from './input-coverage';

const query = (over: Partial<CoverageQuery>): CoverageQuery => ({ project: 'web', target: 'image', projectRoot: 'apps/web', options: {}, inputs: undefined, namedInputs: {}, ...over });

describe('uncoveredReads', () => {
  test('Nx\'s default inputs cover a build of the project root', () => {
    expect(uncoveredReads(query({}))).toEqual([]);
  });

  test('a context outside the project root that the inputs miss: one message naming project, target, option and directory', () => {
    const problems = uncoveredReads(query({ options: { context: 'libs/ui', dockerfile: 'apps/web/Dockerfile' }, inputs: ['{projectRoot}/**/*'] }));
    expect(problems).toEqual([expect.stringMatching(/^web:image: option "context" reads directory libs\/ui\/, which the target's Nx inputs do not cover: .* Add "\{workspaceRoot\}\/libs\/ui\/\*\*\/\*" to the target's inputs/)]);
  });

  test('the inferred inputs cover what they were made from; negations of ignored files do not uncover the directory', () => {
    const inputs = ['{workspaceRoot}/libs/ui/**/*', '{projectRoot}/Dockerfile', '!{workspaceRoot}/libs/ui/*.md', { env: 'X' }];
    expect(uncoveredReads(query({ options: { context: 'libs/ui', dockerfile: 'apps/web/Dockerfile' }, inputs }))).toEqual([]);
  });

  test('named inputs are expanded (nx.json under the project\'s own); ^ inputs are the dependencies\' files', () => {
    const namedInputs = { default: ['{projectRoot}/**/*', 'shared'], shared: [{ fileset: '{workspaceRoot}/libs/**/*' }], production: ['default', '!{workspaceRoot}/libs/ui/**'] };
    expect(uncoveredReads(query({ options: { context: 'libs/ui' }, inputs: ['default'], namedInputs }))).toEqual([]);
    expect(uncoveredReads(query({ options: { context: 'libs/ui' }, inputs: ['production'], namedInputs })).map((p) => p.split(' reads ')[0])).toEqual(['web:image: option "context"', 'web:image: option "dockerfile"']);
    expect(uncoveredReads(query({ options: { context: 'libs/ui' }, inputs: ['^default'], namedInputs }))).toHaveLength(2);
  });

  test('a Dockerfile elsewhere and local named contexts (a command-line context too: options are what the task runs with)', () => {
    const problems = uncoveredReads(query({ options: { context: '.', dockerfile: 'docker/web.Dockerfile', namedContexts: { a: 'local:assets', i: 'docker-image://alpine' } }, inputs: ['{projectRoot}/**/*'] }));
    expect(problems.map((p) => p.split(', which')[0])).toEqual([
      'web:image: option "context" reads directory ./',
      'web:image: option "dockerfile" reads file docker/web.Dockerfile',
      'web:image: option "namedContexts.a" reads directory assets/',
    ]);
  });
});
