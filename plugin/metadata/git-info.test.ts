import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BuildkitError } from '../buildkit/index';
import { readGitInfo, type GitInfo, type GitRepositoryInfo } from './git-info';

// A real repository in a temp dir, isolated from the machine's git config
// (signing, hooks, default branch) and from any repository above it.
const base = realpathSync(mkdtempSync(join(tmpdir(), 'nxbk-git-')));
const env = {
  PATH: process.env.PATH,
  HOME: base,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CEILING_DIRECTORIES: base,
};
const git = (cwd: string, args: string[], extra: Record<string, string> = {}) =>
  execFileSync('git', args, { cwd, env: { ...env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@e', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@e', ...extra }, encoding: 'utf8' }).trim();
const commit = (cwd: string, message: string, date: string) => {
  writeFileSync(join(cwd, 'file.txt'), message);
  git(cwd, ['add', '.']);
  git(cwd, ['commit', '-q', '-m', message], { GIT_AUTHOR_DATE: date, GIT_COMMITTER_DATE: date });
  return git(cwd, ['rev-parse', 'HEAD']);
};
const asRepo = (info: GitInfo): GitRepositoryInfo => {
  if (info.kind !== 'repository') throw new Error(`expected a repository, got: ${info.reason}`);
  return info;
};

const repo = join(base, 'repo');
let first = '';
let second = '';

beforeAll(() => {
  mkdirSync(join(repo, 'apps', 'api'), { recursive: true });
  git(repo, ['init', '-q', '-b', 'main']);
  first = commit(repo, 'one', '2024-01-01T10:00:00+02:00');
  git(repo, ['tag', 'v1.0.0']); // lightweight: dated by its commit
  git(repo, ['tag', '-a', 'api@1.0.0', '-m', 'release'], { GIT_COMMITTER_DATE: '2024-02-01T00:00:00Z' });
  second = commit(repo, 'two', '2024-03-05T06:07:08Z');
});
afterAll(() => rmSync(base, { recursive: true, force: true }));

describe('readGitInfo on a real repository', () => {
  test('a branch checkout: sha, short sha, branch, commit time, no tag, no remote', async () => {
    git(repo, ['checkout', '-q', 'main']);
    const info = asRepo(await readGitInfo(repo, { env }));
    expect(info).toEqual({
      kind: 'repository', root: repo, sha: second, shortSha: second.slice(0, 7), branch: 'main', branchSource: 'git',
      detached: false, tags: [], commitTime: '2024-03-05T06:07:08.000Z',
    });
    expect(info.sha).toMatch(/^[0-9a-f]{40}$/);
  });

  test('a subdirectory reports the repository root', async () => {
    expect(asRepo(await readGitInfo(join(repo, 'apps', 'api'), { env })).root).toBe(repo);
  });

  test('a branch with a slash', async () => {
    git(repo, ['checkout', '-q', '-b', 'feature/Login']);
    try {
      expect(asRepo(await readGitInfo(repo, { env })).branch).toBe('feature/Login');
    } finally {
      git(repo, ['checkout', '-q', 'main']);
    }
  });

  test('tags at HEAD, newest first, and the commit time in UTC', async () => {
    git(repo, ['checkout', '-q', '--detach', first]);
    const info = asRepo(await readGitInfo(repo, { env }));
    expect(info.sha).toBe(first);
    expect(info.tags).toEqual(['api@1.0.0', 'v1.0.0']);
    expect(info.tag).toBe('api@1.0.0');
    expect(info.commitTime).toBe('2024-01-01T08:00:00.000Z');
  });

  test('detached HEAD without CI variables has no branch', async () => {
    git(repo, ['checkout', '-q', '--detach', second]);
    const info = asRepo(await readGitInfo(repo, { env }));
    expect(info.detached).toBe(true);
    expect(info.branch).toBeUndefined();
    expect(info.branchSource).toBeUndefined();
  });

  test('detached HEAD takes the branch from the CI variables passed in env', async () => {
    git(repo, ['checkout', '-q', '--detach', second]);
    const info = asRepo(await readGitInfo(repo, { env: { ...env, GITHUB_HEAD_REF: 'feature/pr', GITHUB_REF_NAME: '7/merge' } }));
    expect(info.branch).toBe('feature/pr');
    expect(info.branchSource).toBe('GITHUB_HEAD_REF');
  });

  test('a checked-out branch wins over CI variables', async () => {
    git(repo, ['checkout', '-q', 'main']);
    const info = asRepo(await readGitInfo(repo, { env: { ...env, GITHUB_REF_NAME: 'other' } }));
    expect(info.branch).toBe('main');
    expect(info.branchSource).toBe('git');
  });

  const remotes: [string, string, string | undefined][] = [
    ['https://ci-token:s3cr3t@github.com/acme/mono.git', 'https://github.com/acme/mono.git', 'https://github.com/acme/mono'],
    ['git@gitlab.com:acme/mono.git', 'git@gitlab.com:acme/mono.git', 'https://gitlab.com/acme/mono'],
    ['/srv/git/mono.git', '/srv/git/mono.git', undefined],
  ];
  test.each(remotes)('origin %s', async (url, remoteUrl, webUrl) => {
    git(repo, ['checkout', '-q', 'main']);
    git(repo, ['remote', 'add', 'origin', url]);
    try {
      const info = asRepo(await readGitInfo(repo, { env }));
      expect(info.remoteUrl).toBe(remoteUrl);
      expect(info.webUrl).toBe(webUrl);
      expect(JSON.stringify(info)).not.toContain('s3cr3t');
    } finally {
      git(repo, ['remote', 'remove', 'origin']);
    }
  });
});

describe('readGitInfo without usable git', () => {
  const unavailable: [string, () => string, Record<string, unknown>, string][] = [
    ['a directory outside any repository', () => { const d = join(base, 'plain'); mkdirSync(d, { recursive: true }); return d; }, {}, 'is not a git repository'],
    ['a directory that does not exist', () => join(base, 'missing'), {}, 'cannot change to'],
    ['a repository without commits', () => { const d = join(base, 'empty'); mkdirSync(d, { recursive: true }); git(d, ['init', '-q']); return d; }, {}, 'has no commit yet'],
    ['git not installed (explicit binary)', () => repo, { gitBinary: join(base, 'no-such-git') }, 'git is not installed'],
    ['git not on PATH', () => repo, { env: { ...env, PATH: join(base, 'empty-bin') } }, 'git is not installed (no "git" on PATH)'],
  ];
  test.each(unavailable)('%s', async (_name, makeDir, options, reason) => {
    const dir = makeDir();
    const info = await readGitInfo(dir, { env, ...options });
    expect(info.kind).toBe('unavailable');
    if (info.kind === 'unavailable') {
      expect(info.dir).toBe(dir);
      expect(info.reason).toContain(reason);
    }
  });
});

describe('readGitInfo cancellation and timeouts', () => {
  // A "git" that never answers, to prove the timeout and the signal stop it.
  const slowGit = join(base, 'slow-git');
  beforeAll(() => {
    writeFileSync(slowGit, '#!/bin/sh\nexec sleep 30\n');
    chmodSync(slowGit, 0o755);
  });

  test('an already aborted signal rejects with cancelled', async () => {
    const error = await readGitInfo(repo, { env, signal: AbortSignal.abort() }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).code).toBe('cancelled');
  });

  test('aborting while git runs rejects with a cancelled BuildkitError', async () => {
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);
    const started = Date.now();
    const error = await readGitInfo(repo, { env, gitBinary: slowGit, signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  test('a git that does not answer in time is a deadline-exceeded error naming the command', async () => {
    const error = await readGitInfo(repo, { env, gitBinary: slowGit, timeoutMs: 100 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).code).toBe('deadline-exceeded');
    expect((error as BuildkitError).message).toContain('git rev-parse --show-toplevel did not finish within 100 ms');
  });
});
