import { describe, expect, test } from 'bun:test';
import type { Env } from './ci-branch';
import { ciRefFromEnv, ciRefVariables, type CiRef } from './ci-ref';

describe('ciRefFromEnv', () => {
  const cases: [string, Env, CiRef][] = [
    ['no CI', {}, {}],
    [
      'GitHub pull_request: the number from refs/pull/N/merge, the source branch',
      { GITHUB_REF: 'refs/pull/42/merge', GITHUB_REF_NAME: '42/merge', GITHUB_HEAD_REF: 'feature/x' },
      { pullRequest: { number: '42', variable: 'GITHUB_REF' }, branch: { name: 'feature/x', variable: 'GITHUB_HEAD_REF' } },
    ],
    [
      'GitHub tag push',
      { GITHUB_REF: 'refs/tags/v1.2.3', GITHUB_REF_NAME: 'v1.2.3', GITHUB_REF_TYPE: 'tag' },
      { tag: { name: 'v1.2.3', variable: 'GITHUB_REF' } },
    ],
    ['GitHub tag by ref name only', { GITHUB_REF_NAME: 'v2', GITHUB_REF_TYPE: 'tag' }, { tag: { name: 'v2', variable: 'GITHUB_REF_NAME' } }],
    ['GitHub branch push', { GITHUB_REF: 'refs/heads/main', GITHUB_REF_NAME: 'main', GITHUB_REF_TYPE: 'branch' }, { branch: { name: 'main', variable: 'GITHUB_REF_NAME' } }],
    [
      'GitLab merge request: the project-level IID',
      { CI_MERGE_REQUEST_IID: '7', CI_MERGE_REQUEST_SOURCE_BRANCH_NAME: 'mr-src' },
      { pullRequest: { number: '7', variable: 'CI_MERGE_REQUEST_IID' }, branch: { name: 'mr-src', variable: 'CI_MERGE_REQUEST_SOURCE_BRANCH_NAME' } },
    ],
    ['GitLab tag', { CI_COMMIT_TAG: 'api/v3', CI_COMMIT_REF_NAME: 'api/v3' }, { tag: { name: 'api/v3', variable: 'CI_COMMIT_TAG' } }],
    ['Azure pull request', { BUILD_SOURCEBRANCH: 'refs/pull/9/merge', SYSTEM_PULLREQUEST_SOURCEBRANCH: 'refs/heads/s' }, { pullRequest: { number: '9', variable: 'BUILD_SOURCEBRANCH' }, branch: { name: 's', variable: 'SYSTEM_PULLREQUEST_SOURCEBRANCH' } }],
    ['Azure tag', { BUILD_SOURCEBRANCH: 'refs/tags/v4' }, { tag: { name: 'v4', variable: 'BUILD_SOURCEBRANCH' } }],
    ['CircleCI pull request URL', { CIRCLE_PULL_REQUEST: 'https://github.com/acme/app/pull/15', CIRCLE_BRANCH: 'c' }, { pullRequest: { number: '15', variable: 'CIRCLE_PULL_REQUEST' }, branch: { name: 'c', variable: 'CIRCLE_BRANCH' } }],
    ['Travis: "false" is no pull request', { TRAVIS_PULL_REQUEST: 'false', TRAVIS_BRANCH: 'main' }, { branch: { name: 'main', variable: 'TRAVIS_BRANCH' } }],
    ['Buildkite pull request', { BUILDKITE_PULL_REQUEST: '3', BUILDKITE_BRANCH: 'b' }, { pullRequest: { number: '3', variable: 'BUILDKITE_PULL_REQUEST' }, branch: { name: 'b', variable: 'BUILDKITE_BRANCH' } }],
    ['Jenkins change request', { CHANGE_ID: '11', CHANGE_BRANCH: 'src' }, { pullRequest: { number: '11', variable: 'CHANGE_ID' }, branch: { name: 'src', variable: 'CHANGE_BRANCH' } }],
    ['a number that is not digits is ignored', { CHANGE_ID: 'abc', BITBUCKET_PR_ID: ' 5 ' }, { pullRequest: { number: '5', variable: 'BITBUCKET_PR_ID' } }],
  ];
  test.each(cases)('%s', (_name, env, expected) => expect(ciRefFromEnv(env)).toEqual(expected));

  test('lists the variables it reads once each', () => {
    expect(ciRefVariables).toContain('CI_MERGE_REQUEST_IID');
    expect(new Set(ciRefVariables).size).toBe(ciRefVariables.length);
  });
});
