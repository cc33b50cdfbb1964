/**
 * The branch a CI job builds, read from the CI provider's variables.
 * CI systems usually check out a commit, not a branch (detached HEAD), so
 * git alone cannot name the branch there.
 */

/** Environment variables, passed explicitly (never read from `process.env` here). */
export type Env = Readonly<Record<string, string | undefined>>;

/** Where a branch name came from. */
export interface CiBranch {
  branch: string;
  /** The variable that named it, e.g. `GITHUB_HEAD_REF`. */
  variable: string;
}

/**
 * Variables in the order they are tried. A pull/merge request's source
 * branch comes before the generic ref name (which names the merge ref, e.g.
 * `123/merge`); `unless` skips a variable on tag builds, where it holds the
 * tag name instead of a branch.
 */
const CI_BRANCH_VARIABLES: readonly { variable: string; unless?: (env: Env) => boolean }[] = [
  { variable: 'GITHUB_HEAD_REF' }, // GitHub Actions, pull_request events
  { variable: 'GITHUB_REF_NAME', unless: (env) => env.GITHUB_REF_TYPE === 'tag' },
  { variable: 'CI_MERGE_REQUEST_SOURCE_BRANCH_NAME' }, // GitLab merge request pipelines
  { variable: 'CI_COMMIT_BRANCH' }, // GitLab branch pipelines
  { variable: 'CI_COMMIT_REF_NAME', unless: (env) => Boolean(env.CI_COMMIT_TAG) },
  { variable: 'SYSTEM_PULLREQUEST_SOURCEBRANCH' }, // Azure Pipelines, pull requests
  { variable: 'BUILD_SOURCEBRANCH', unless: (env) => !env.BUILD_SOURCEBRANCH?.startsWith('refs/heads/') }, // Azure Pipelines
  { variable: 'BITBUCKET_BRANCH' },
  { variable: 'CIRCLE_BRANCH' },
  { variable: 'BUILDKITE_BRANCH', unless: (env) => Boolean(env.BUILDKITE_TAG) },
  { variable: 'TRAVIS_PULL_REQUEST_BRANCH' },
  { variable: 'TRAVIS_BRANCH', unless: (env) => Boolean(env.TRAVIS_TAG) },
  { variable: 'DRONE_SOURCE_BRANCH' },
  { variable: 'DRONE_BRANCH', unless: (env) => Boolean(env.DRONE_TAG) },
  { variable: 'CHANGE_BRANCH' }, // Jenkins multibranch, pull requests
  { variable: 'BRANCH_NAME', unless: (env) => Boolean(env.TAG_NAME) }, // Jenkins multibranch
  { variable: 'GIT_BRANCH' }, // Jenkins git plugin (`origin/main`)
];

/** The variable names {@link branchFromCiEnv} reads, in order (for documentation and messages). */
export const ciBranchVariables: readonly string[] = CI_BRANCH_VARIABLES.map((v) => v.variable);

/**
 * The branch named by the first CI variable that is set, with `refs/heads/`
 * and a remote prefix (`origin/`, `refs/remotes/origin/`) removed, or
 * `undefined` when no variable names a branch.
 */
export function branchFromCiEnv(env: Env): CiBranch | undefined {
  for (const { variable, unless } of CI_BRANCH_VARIABLES) {
    const value = env[variable]?.trim();
    if (!value || unless?.(env)) continue;
    const branch = value.replace(/^refs\/heads\//, '').replace(/^(?:refs\/remotes\/)?origin\//, '');
    if (branch !== '') return { branch, variable };
  }
  return undefined;
}
