import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

// docker/metadata-action's ref rules through the real Nx CLI (under Node):
// the CI variables a job sets decide `{{pr}}`, `{{ref}}` and `{{branch}}`,
// and `--print` shows the resolved tags (no daemon is contacted).

const timeout = 120_000;
/** The host's CI variables blanked (a blank variable counts as unset), so a CI running this test cannot leak in. */
const ciVariable = /^(?:GITHUB_|CI_|CIRCLE_|BUILDKITE_|TRAVIS_|DRONE_|BITBUCKET_|SYSTEM_PULLREQUEST_|BUILD_SOURCEBRANCH$|CHANGE_|TAG_NAME$|BRANCH_NAME$|GIT_BRANCH$)/;
const noCi = Object.fromEntries(Object.keys(process.env).filter((k) => ciVariable.test(k)).map((k) => [k, '']));
const tags = ['pr-{{pr}}', '{{ref}}', '{{branch}}', 'sha-{{sha}}'];

function workspace(env: Record<string, string>): NxWorkspace {
  return createFixtureWorkspace(
    {
      'api/project.json': JSON.stringify({ name: 'api', targets: { image: { options: { imageName: 'acme/api', tags } } } }),
      'api/Dockerfile': 'FROM scratch\n',
    },
    {},
    { ...noCi, ...env },
  );
}

/** The `tags:` line `--print` shows for the one target. */
function printedTags(ws: NxWorkspace): string {
  const r = ws.nx('node', ['run-many', '-t', 'image', '--print', '--skip-nx-cache', '--output-style=static']);
  expect(r.status, r.stdout + r.stderr).toBe(0);
  const line = /^ {4}tags: (.*)$/m.exec(r.stdout);
  expect(line, r.stdout).not.toBeNull();
  return line![1]!;
}

describe('tag templates from CI variables, shown by --print', () => {
  let pr: NxWorkspace;
  let tagBuild: NxWorkspace;
  let local: NxWorkspace;
  const sha = (ws: NxWorkspace) => ws.git('rev-parse', '--short=7', 'HEAD').trim();

  beforeAll(() => {
    // A GitHub pull_request job: HEAD detached at the merge commit, the number in GITHUB_REF.
    pr = workspace({ GITHUB_REF: 'refs/pull/42/merge', GITHUB_REF_NAME: '42/merge', GITHUB_HEAD_REF: 'Feature/Login' });
    pr.git('checkout', '-q', '--detach');
    // A GitLab tag pipeline.
    tagBuild = workspace({ CI_COMMIT_TAG: 'API/v1.2.0', CI_COMMIT_REF_NAME: 'API/v1.2.0' });
    tagBuild.git('checkout', '-q', '--detach');
    // No CI: git's own branch.
    local = workspace({});
  }, timeout);

  afterAll(() => {
    for (const ws of [pr, tagBuild, local]) ws?.[Symbol.dispose]();
  });

  test('a pull request: pr-42 from {{pr}} and {{ref}}, the source branch sanitized', () => {
    expect(printedTags(pr)).toBe(`acme/api:pr-42, acme/api:feature-login, acme/api:sha-${sha(pr)}`);
  }, timeout);

  test('a tag build: {{ref}} is the tag, sanitized; {{pr}} and {{branch}} are dropped', () => {
    expect(printedTags(tagBuild)).toBe(`acme/api:api-v1.2.0, acme/api:sha-${sha(tagBuild)}`);
  }, timeout);

  test('outside CI: {{ref}} and {{branch}} are git\'s branch, {{pr}} is dropped', () => {
    expect(printedTags(local)).toBe(`acme/api:main, acme/api:sha-${sha(local)}`);
  }, timeout);
});
