import { describe, expect, test } from 'bun:test';
import { branchFromCiEnv, ciBranchVariables, type Env } from './ci-branch';

describe('branchFromCiEnv', () => {
  const cases: [string, Env, { branch: string; variable: string } | undefined][] = [
    ['no CI', {}, undefined],
    ['GitHub push', { GITHUB_REF_NAME: 'main', GITHUB_REF_TYPE: 'branch' }, { branch: 'main', variable: 'GITHUB_REF_NAME' }],
    ['GitHub pull request: the source branch, not 123/merge', { GITHUB_HEAD_REF: 'feature/x', GITHUB_REF_NAME: '123/merge' }, { branch: 'feature/x', variable: 'GITHUB_HEAD_REF' }],
    ['GitHub tag push has no branch', { GITHUB_HEAD_REF: '', GITHUB_REF_NAME: 'v1.0.0', GITHUB_REF_TYPE: 'tag' }, undefined],
    ['GitLab branch', { CI_COMMIT_BRANCH: 'dev', CI_COMMIT_REF_NAME: 'dev' }, { branch: 'dev', variable: 'CI_COMMIT_BRANCH' }],
    ['GitLab merge request', { CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'mr-src', CI_COMMIT_REF_NAME: 'refs/merge-requests/1/head' }, { branch: 'mr-src', variable: 'CI_MERGE_REQUEST_SOURCE_BRANCH_NAME' }],
    ['GitLab tag', { CI_COMMIT_REF_NAME: 'v2', CI_COMMIT_TAG: 'v2' }, undefined],
    ['GitLab ref name only', { CI_COMMIT_REF_NAME: 'release/1' }, { branch: 'release/1', variable: 'CI_COMMIT_REF_NAME' }],
    ['Azure branch', { BUILD_SOURCEBRANCH: 'refs/heads/feature/a' }, { branch: 'feature/a', variable: 'BUILD_SOURCEBRANCH' }],
    ['Azure tag', { BUILD_SOURCEBRANCH: 'refs/tags/v1' }, undefined],
    ['Azure pull request', { SYSTEM_PULLREQUEST_SOURCEBRANCH: 'refs/heads/pr-src', BUILD_SOURCEBRANCH: 'refs/pull/4/merge' }, { branch: 'pr-src', variable: 'SYSTEM_PULLREQUEST_SOURCEBRANCH' }],
    ['Bitbucket', { BITBUCKET_BRANCH: 'b' }, { branch: 'b', variable: 'BITBUCKET_BRANCH' }],
    ['CircleCI', { CIRCLE_BRANCH: 'c' }, { branch: 'c', variable: 'CIRCLE_BRANCH' }],
    ['Buildkite tag', { BUILDKITE_BRANCH: 'v1', BUILDKITE_TAG: 'v1' }, undefined],
    ['Travis pull request', { TRAVIS_PULL_REQUEST_BRANCH: 'src', TRAVIS_BRANCH: 'main' }, { branch: 'src', variable: 'TRAVIS_PULL_REQUEST_BRANCH' }],
    ['Travis tag', { TRAVIS_BRANCH: 'v1', TRAVIS_TAG: 'v1' }, undefined],
    ['Drone', { DRONE_BRANCH: 'd' }, { branch: 'd', variable: 'DRONE_BRANCH' }],
    ['Jenkins multibranch', { BRANCH_NAME: 'main' }, { branch: 'main', variable: 'BRANCH_NAME' }],
    ['Jenkins pull request', { CHANGE_BRANCH: 'src', BRANCH_NAME: 'PR-7' }, { branch: 'src', variable: 'CHANGE_BRANCH' }],
    ['Jenkins tag', { BRANCH_NAME: 'v1', TAG_NAME: 'v1' }, undefined],
    ['Jenkins git plugin', { GIT_BRANCH: 'origin/main' }, { branch: 'main', variable: 'GIT_BRANCH' }],
    ['Jenkins git plugin, full remote ref', { GIT_BRANCH: 'refs/remotes/origin/rel/2' }, { branch: 'rel/2', variable: 'GIT_BRANCH' }],
    ['blank values are skipped', { GITHUB_HEAD_REF: '  ', CIRCLE_BRANCH: 'c' }, { branch: 'c', variable: 'CIRCLE_BRANCH' }],
  ];
  test.each(cases)('%s', (_name, env, expected) => expect(branchFromCiEnv(env)).toEqual(expected));

  test('lists the variables it reads, GitHub first', () => {
    expect(ciBranchVariables[0]).toBe('GITHUB_HEAD_REF');
    expect(ciBranchVariables).toContain('CI_COMMIT_REF_NAME');
    expect(ciBranchVariables).toContain('BRANCH_NAME');
  });
});
