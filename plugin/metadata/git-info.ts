import { execFile } from 'node:child_process';
import { BuildkitError } from '../buildkit/foundation';
import { branchFromCiEnv, type Env } from './ci-branch';
import { gitRemoteToWebUrl, stripCredentials } from './git-remote-url';

/** Facts about the commit a workspace directory has checked out. */
export interface GitRepositoryInfo {
  kind: 'repository';
  /** The repository's top-level directory. */
  root: string;
  /** Full commit hash of HEAD. */
  sha: string;
  /** The first 7 characters of {@link sha} (what `git log --oneline` and metadata-action show). */
  shortSha: string;
  /** The branch being built: HEAD's branch, or on a detached HEAD the one a CI variable names. */
  branch?: string;
  /** `git` when HEAD is on {@link branch}; otherwise the CI variable that named it. */
  branchSource?: string;
  /** True when HEAD is not on a branch (usual in CI). */
  detached: boolean;
  /** The newest tag pointing at HEAD, if any. */
  tag?: string;
  /** Every tag pointing at HEAD, newest first. */
  tags: string[];
  /** The `origin` remote URL without credentials, when there is an origin. */
  remoteUrl?: string;
  /** The remote as a browsable http(s) address, when it has one. */
  webUrl?: string;
  /** The commit's committer time, ISO 8601 in UTC. */
  commitTime: string;
}

/** The directory gives no git facts; tag templates that need git fail with {@link reason}. */
export interface GitUnavailable {
  kind: 'unavailable';
  dir: string;
  /** Why, e.g. `/w is not a git repository` or `git is not installed`. */
  reason: string;
}

/** What {@link readGitInfo} found. */
export type GitInfo = GitRepositoryInfo | GitUnavailable;

/** Options of {@link readGitInfo}. */
export interface ReadGitInfoOptions {
  /**
   * Environment for `git` and for the CI branch variables. Required so that
   * callers decide what the process sees (tests pass a fake CI environment);
   * it must contain `PATH` for `git` to be found.
   */
  env: Env;
  signal?: AbortSignal;
  /** Per `git` command; default 10 s. A slow git is a failure, not a wait. */
  timeoutMs?: number;
  /** The git executable; default `git` looked up on the env's `PATH`. */
  gitBinary?: string;
}

interface GitResult {
  code: number;
  stdout: string;
  stderr: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
const SHORT_SHA_LENGTH = 7;

/**
 * Read the git facts of `dir` by running `git` (no shell). Returns
 * `{ kind: 'unavailable' }` when git is missing, `dir` is not inside a
 * repository, or the repository has no commit; throws a `BuildkitError` only
 * for aborts (`cancelled`), timeouts (`deadline-exceeded`) and unexpected
 * failures.
 */
export async function readGitInfo(dir: string, options: ReadGitInfoOptions): Promise<GitInfo> {
  if (options.signal?.aborted) throw BuildkitError.from(options.signal.reason, 'reading git facts');
  const top = await runGitOrMissing(dir, ['rev-parse', '--show-toplevel'], options);
  if (top === 'missing') return { kind: 'unavailable', dir, reason: `git is not installed (no "${options.gitBinary ?? 'git'}" on PATH)` };
  if (top.code !== 0) return { kind: 'unavailable', dir, reason: `${dir} is not a git repository (${gitMessage(top)})` };

  // Once we know it is a repository, the remaining questions are independent.
  const stop = new AbortController();
  const linked = { ...options, signal: options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal };
  const [head, symbolic, tags, origin] = await Promise.all([
    runGit(dir, ['log', '-1', '--format=%H%n%cI', 'HEAD'], linked),
    runGit(dir, ['symbolic-ref', '--quiet', '--short', 'HEAD'], linked),
    // The last --sort key is the primary one: newest first, then highest version.
    runGit(dir, ['tag', '--points-at', 'HEAD', '--sort=-v:refname', '--sort=-creatordate'], linked),
    runGit(dir, ['remote', 'get-url', 'origin'], linked),
  ]).catch((err: unknown) => {
    stop.abort();
    throw err;
  });
  if (head.code !== 0) return { kind: 'unavailable', dir, reason: `the git repository at ${dir} has no commit yet (${gitMessage(head)})` };

  const [sha = '', committed = ''] = head.stdout.trim().split('\n');
  const info: GitRepositoryInfo = {
    kind: 'repository',
    root: top.stdout.trim(),
    sha,
    shortSha: sha.slice(0, SHORT_SHA_LENGTH),
    detached: symbolic.code !== 0,
    tags: tags.code === 0 ? tags.stdout.split('\n').map((t) => t.trim()).filter(Boolean) : [],
    commitTime: new Date(committed).toISOString(),
  };
  const branch = symbolic.code === 0 ? { branch: symbolic.stdout.trim(), variable: 'git' } : branchFromCiEnv(options.env);
  if (branch) {
    info.branch = branch.branch;
    info.branchSource = branch.variable;
  }
  if (info.tags[0] !== undefined) info.tag = info.tags[0];
  const remote = origin.code === 0 ? origin.stdout.trim() : '';
  if (remote !== '') {
    info.remoteUrl = stripCredentials(remote);
    const web = gitRemoteToWebUrl(remote);
    if (web !== undefined) info.webUrl = web;
  }
  return info;
}

async function runGitOrMissing(dir: string, args: string[], options: ReadGitInfoOptions): Promise<GitResult | 'missing'> {
  try {
    return await runGit(dir, args, options);
  } catch (err) {
    if (err instanceof BuildkitError && err.code === 'not-found') return 'missing';
    throw err;
  }
}

/** Run `git -C dir …`; a non-zero exit resolves (callers decide), spawn failures, aborts and timeouts reject. */
function runGit(dir: string, args: string[], options: ReadGitInfoOptions): Promise<GitResult> {
  const timeout = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const env = {
    ...options.env,
    // English messages (we quote them), no credential prompt from a remote helper,
    // no index refresh lock that would race a parallel git in the same repository.
    LC_ALL: 'C',
    GIT_TERMINAL_PROMPT: '0',
    GIT_OPTIONAL_LOCKS: '0',
  };
  return new Promise((resolve, reject) => {
    execFile(
      options.gitBinary ?? 'git',
      ['-C', dir, ...args],
      { env, signal: options.signal, timeout, encoding: 'utf8', maxBuffer: 4 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return resolve({ code: 0, stdout, stderr });
        if (typeof error.code === 'number') return resolve({ code: error.code, stdout, stderr });
        const command = `git ${args.join(' ')}`;
        if (error.killed && !options.signal?.aborted && error.name !== 'AbortError') {
          return reject(new BuildkitError('deadline-exceeded', `${command} did not finish within ${timeout} ms`, { cause: error }));
        }
        reject(BuildkitError.from(error, command));
      },
    );
  });
}

/** The useful line of git's error output, without the `fatal: ` prefix. */
function gitMessage(result: GitResult): string {
  const line = result.stderr.split('\n').find((l) => l.trim() !== '') ?? `exit code ${result.code}`;
  return line.replace(/^(?:fatal|error):\s*/, '').trim();
}
