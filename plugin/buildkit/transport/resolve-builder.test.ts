import { describe, expect, test } from 'bun:test';
import { parseBuilderAddress } from './builder-address';
import { builderCandidates, noBuilderError } from './resolve-builder';

const displays = (explicit: string | undefined, env: Record<string, string>) =>
  builderCandidates(explicit, env).map((c) => `${c.source}=${c.address.display}`);

describe('builder resolution order', () => {
  test('an explicit address wins and is the only candidate', () => {
    expect(displays('tcp://127.0.0.1:1234', { BUILDKIT_HOST: 'unix:///x.sock', DOCKER_HOST: 'unix:///d.sock' })).toEqual(['option=tcp://127.0.0.1:1234']);
  });
  test('BUILDKIT_HOST comes next and is the only candidate', () => {
    expect(displays(undefined, { BUILDKIT_HOST: 'unix:///run/bk.sock', DOCKER_HOST: 'unix:///d.sock' })).toEqual(['BUILDKIT_HOST=unix:///run/bk.sock']);
  });
  test('then DOCKER_HOST, then the default buildkitd socket', () => {
    expect(displays(undefined, { DOCKER_HOST: 'unix:///var/run/other.sock' })).toEqual([
      'DOCKER_HOST=docker:///var/run/other.sock',
      'default buildkitd socket=unix:///run/buildkit/buildkitd.sock',
    ]);
  });
  test('with nothing configured: the default Docker socket, then the default buildkitd socket', () => {
    expect(displays(undefined, {})).toEqual([
      'default Docker socket=docker:///var/run/docker.sock',
      'default buildkitd socket=unix:///run/buildkit/buildkitd.sock',
    ]);
  });
  test('DOCKER_HOST over tcp is a Docker engine over tcp', () => {
    expect(builderCandidates(undefined, { DOCKER_HOST: 'tcp://127.0.0.1:2375' })[0]!.address).toEqual({
      kind: 'docker', endpoint: { host: '127.0.0.1', port: 2375 }, display: 'docker+tcp://127.0.0.1:2375',
    });
  });
  test('the failure lists every address tried and why', () => {
    const candidates = builderCandidates(undefined, {});
    const err = noBuilderError(candidates.map((candidate, i) => ({ candidate, error: new Error(`reason ${i}`) })));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain('docker:///var/run/docker.sock (default Docker socket): reason 0');
    expect(err.message).toContain('unix:///run/buildkit/buildkitd.sock (default buildkitd socket): reason 1');
  });
});

describe('builder address parsing', () => {
  test.each([
    ['unix:///run/buildkit/buildkitd.sock', { kind: 'unix', path: '/run/buildkit/buildkitd.sock' }],
    ['tcp://buildkit.example:1234', { kind: 'tcp', host: 'buildkit.example', port: 1234 }],
    ['tcp://[::1]:1234', { kind: 'tcp', host: '::1', port: 1234 }],
    ['docker://', { kind: 'docker', endpoint: { socketPath: '/var/run/docker.sock' } }],
    ['docker:///tmp/d.sock', { kind: 'docker', endpoint: { socketPath: '/tmp/d.sock' } }],
  ])('%s', (address, expected) => {
    expect(parseBuilderAddress(address)).toMatchObject(expected);
  });
  test.each([
    ['localhost:1234', 'expected unix://, tcp:// or docker://'],
    ['ftp://x:1', 'unknown scheme "ftp"'],
    ['tcp://host', 'expected host:port'],
    ['tcp://host:70000', 'port 70000 is out of range'],
    ['unix://relative.sock', 'must be absolute'],
  ])('rejects %s', (address, why) => {
    expect(() => parseBuilderAddress(address)).toThrow(why);
  });
});
