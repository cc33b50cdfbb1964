import { branchFromCiEnv, type Env } from './ci-branch';

/**
 * What a CI job builds, in the terms of docker/metadata-action's `type=ref`
 * rules (`event=pr`, `event=tag`, `event=branch`), read from the CI
 * provider's variables: the pull/merge request, the pushed tag, the branch.
 */
export interface CiRef {
  /** The pull/merge request number, digits only, and the variable that gave it. */
  pullRequest?: { number: string; variable: string };
  /** The tag a tag build builds (as the CI names it, not sanitized), and the variable that gave it. */
  tag?: { name: string; variable: string };
  /** The branch a CI variable names ({@link branchFromCiEnv}). */
  branch?: { name: string; variable: string };
}

/** How a variable's value gives a pull request number; `undefined` = not a pull request build. */
type NumberOf = (value: string, env: Env) => string | undefined;
const digits: NumberOf = (v) => (/^\d+$/.test(v) ? v : undefined);
/** `refs/pull/123/merge` (GitHub, Azure) → `123`. */
const pullRef: NumberOf = (v) => /^refs\/pull\/(\d+)\/(?:merge|head)$/.exec(v)?.[1];
/** A pull request URL ending in its number (CircleCI's `CIRCLE_PULL_REQUEST`). */
const urlNumber: NumberOf = (v) => /\/pull\/(\d+)\/?$/.exec(v)?.[1];

/** Pull/merge request variables, in the order tried ("false" in Travis and Buildkite means none). */
const PULL_REQUEST_VARIABLES: readonly { variable: string; number: NumberOf }[] = [
  { variable: 'GITHUB_REF', number: pullRef }, // GitHub Actions, pull_request events
  { variable: 'CI_MERGE_REQUEST_IID', number: digits }, // GitLab merge request pipelines (the project-level number users see)
  { variable: 'SYSTEM_PULLREQUEST_PULLREQUESTNUMBER', number: digits }, // Azure Pipelines, GitHub pull requests
  { variable: 'SYSTEM_PULLREQUEST_PULLREQUESTID', number: digits }, // Azure Pipelines, Azure Repos pull requests
  { variable: 'BUILD_SOURCEBRANCH', number: pullRef }, // Azure Pipelines
  { variable: 'BITBUCKET_PR_ID', number: digits },
  { variable: 'CIRCLE_PR_NUMBER', number: digits }, // CircleCI, pull requests from forks
  { variable: 'CIRCLE_PULL_REQUEST', number: urlNumber },
  { variable: 'BUILDKITE_PULL_REQUEST', number: digits },
  { variable: 'TRAVIS_PULL_REQUEST', number: digits },
  { variable: 'DRONE_PULL_REQUEST', number: digits },
  { variable: 'CHANGE_ID', number: digits }, // Jenkins multibranch
];

/** Tag-build variables, in the order tried. */
const TAG_VARIABLES: readonly { variable: string; name: (value: string, env: Env) => string | undefined }[] = [
  { variable: 'GITHUB_REF', name: (v) => /^refs\/tags\/(.+)$/.exec(v)?.[1] },
  { variable: 'GITHUB_REF_NAME', name: (v, env) => (env.GITHUB_REF_TYPE === 'tag' ? v : undefined) },
  { variable: 'CI_COMMIT_TAG', name: (v) => v }, // GitLab
  { variable: 'BUILD_SOURCEBRANCH', name: (v) => /^refs\/tags\/(.+)$/.exec(v)?.[1] }, // Azure Pipelines
  { variable: 'BITBUCKET_TAG', name: (v) => v },
  { variable: 'CIRCLE_TAG', name: (v) => v },
  { variable: 'BUILDKITE_TAG', name: (v) => v },
  { variable: 'TRAVIS_TAG', name: (v) => v },
  { variable: 'DRONE_TAG', name: (v) => v },
  { variable: 'TAG_NAME', name: (v) => v }, // Jenkins multibranch
];

/** Every variable {@link ciRefFromEnv} reads (for documentation and cache inputs). */
export const ciRefVariables: readonly string[] = [...new Set([...PULL_REQUEST_VARIABLES, ...TAG_VARIABLES].map((v) => v.variable))];

/** The pull request, tag and branch the CI variables in `env` name (each absent when none does). */
export function ciRefFromEnv(env: Env): CiRef {
  const ref: CiRef = {};
  for (const { variable, number } of PULL_REQUEST_VARIABLES) {
    const value = env[variable]?.trim();
    const n = value ? number(value, env) : undefined;
    if (n) {
      ref.pullRequest = { number: n, variable };
      break;
    }
  }
  for (const { variable, name } of TAG_VARIABLES) {
    const value = env[variable]?.trim();
    const tag = value ? name(value, env) : undefined;
    if (tag) {
      ref.tag = { name: tag, variable };
      break;
    }
  }
  const branch = branchFromCiEnv(env);
  if (branch) ref.branch = { name: branch.branch, variable: branch.variable };
  return ref;
}
