import { describe, expect, test } from 'bun:test';
import { gitRemoteToWebUrl, stripCredentials } from './git-remote-url';

describe('gitRemoteToWebUrl', () => {
  const cases: [string, string | undefined][] = [
    ['git@github.com:org/repo.git', 'https://github.com/org/repo'],
    ['git@github.com:org/repo', 'https://github.com/org/repo'],
    ['github.com:org/repo.git', 'https://github.com/org/repo'],
    ['git@gitlab.com:group/sub/repo.git', 'https://gitlab.com/group/sub/repo'],
    ['ssh://git@host.example:2222/org/repo.git', 'https://host.example/org/repo'],
    ['git+ssh://git@github.com/org/repo.git', 'https://github.com/org/repo'],
    ['git://github.com/org/repo.git', 'https://github.com/org/repo'],
    ['https://github.com/org/repo.git', 'https://github.com/org/repo'],
    ['https://github.com/org/repo.git/', 'https://github.com/org/repo'],
    ['https://github.com/org/repo', 'https://github.com/org/repo'],
    ['git+https://github.com/org/repo.git', 'https://github.com/org/repo'],
    ['https://gitlab-ci-token:s3cr3t@gitlab.example.com/group/repo.git', 'https://gitlab.example.com/group/repo'],
    ['https://x-access-token:ghs_abc@github.com/org/repo', 'https://github.com/org/repo'],
    ['https://ghp_tokenonly@github.com/org/repo', 'https://github.com/org/repo'],
    ['http://git.internal:8080/org/repo.git', 'http://git.internal:8080/org/repo'],
    ['https://git.internal:8443/org/repo.git', 'https://git.internal:8443/org/repo'],
    ['/srv/git/repo.git', undefined],
    ['../repo', undefined],
    ['file:///srv/git/repo.git', undefined],
    ['C:\\repos\\app', undefined],
    ['https://github.com/', undefined],
    ['not a url', undefined],
  ];
  test.each(cases)('%s → %p', (remote, expected) => expect(gitRemoteToWebUrl(remote)).toBe(expected));
});

describe('stripCredentials', () => {
  const cases: [string, string][] = [
    ['https://gitlab-ci-token:s3cr3t@gitlab.example.com/group/repo.git', 'https://gitlab.example.com/group/repo.git'],
    ['https://ghp_tokenonly@github.com/org/repo', 'https://github.com/org/repo'],
    ['ssh://git:pw@host/org/repo.git', 'ssh://git@host/org/repo.git'],
    ['ssh://git@host/org/repo.git', 'ssh://git@host/org/repo.git'],
    ['git@github.com:org/repo.git', 'git@github.com:org/repo.git'],
    ['/srv/git/repo.git', '/srv/git/repo.git'],
  ];
  test.each(cases)('%s → %s', (remote, expected) => {
    const out = stripCredentials(remote);
    expect(out).toBe(expected);
    expect(out).not.toMatch(/s3cr3t|ghp_|:pw@/);
  });
});
