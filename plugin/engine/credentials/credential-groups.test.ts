import { describe, expect, test } from 'bun:test';
import { anonymousIdentity, credentialIdentity, parseDockerConfig } from '../../buildkit/index';
import type { ImageTarget } from '../image-target';
import { conflictMap, formatCredentialPlan, planCredentialGroups, type TargetCredentials } from './credential-groups';
import { registryUse } from './registry-use';

const basic = (user: string, pass: string) => ({ auth: Buffer.from(`${user}:${pass}`).toString('base64') });
const identity = (config: unknown, env: Record<string, string> = {}) => credentialIdentity(parseDockerConfig(JSON.stringify(config), '/cfg/config.json'), env);
const target = (id: string, spec: Partial<ImageTarget['spec']> = {}): ImageTarget => ({
  id,
  dependsOn: [],
  contextPolicy: 'shared',
  spec: { name: id, contextDir: '/ws', dockerfile: '/ws/Dockerfile', ...spec },
});
const creds = (id: string, dockerfile: string, ident = anonymousIdentity, spec: Partial<ImageTarget['spec']> = {}): TargetCredentials => ({
  id,
  use: registryUse(target(id, spec), dockerfile),
  identity: ident,
});

const withAccess = identity({ auths: { '127.0.0.1:5001': basic('nxbk', 'secret-1') } });
const sameAccessOtherFile = identity({ auths: { 'http://127.0.0.1:5001/v1/': basic('nxbk', 'secret-1') } });
const otherPassword = identity({ auths: { '127.0.0.1:5001': basic('nxbk', 'secret-2') } });
const noAccess = identity({ auths: { 'other.example:5000': basic('x', 'y') } });

describe('registry use', () => {
  test('bases, COPY --from, RUN --mount, # syntax, named contexts, registry caches and pushes name their registries', () => {
    const use = registryUse(
      target('t', {
        namedContexts: { tools: { kind: 'image', ref: 'docker-image://ghcr.io/org/tools:1' }, 'busybox': { kind: 'local', dir: '/x' } },
        cacheFrom: [{ type: 'registry', attrs: { ref: 'cache.example/app:cache' } }],
        cacheTo: [{ type: 'local', attrs: { dest: '/c' } }],
        outputs: [{ type: 'image', names: ['push.example:5000/app:1'], push: true }, { type: 'image', names: ['nopush.example/app'] }],
      }),
      '# syntax=docker/dockerfile:1\nFROM 127.0.0.1:5001/base AS b\nFROM busybox\nCOPY --from=b /x /x\nCOPY --from=quay.io/a/b /y /y\nRUN --mount=type=bind,from=alpine:3,target=/m true\n',
    );
    expect([...use.hosts.keys()].sort()).toEqual(['127.0.0.1:5001', 'cache.example', 'ghcr.io', 'push.example:5000', 'quay.io', 'registry-1.docker.io']);
    expect(use.hosts.get('127.0.0.1:5001')).toEqual(['FROM line 2']);
    expect(use.hosts.get('registry-1.docker.io')).toEqual(['# syntax', 'RUN --mount from line 6']);
    expect(use.unknown).toEqual([]);
  });

  test('a reference with a build arg may name any registry', () => {
    expect(registryUse(target('t'), 'ARG BASE\nFROM $BASE\n').unknown).toEqual(['$BASE (line 2)']);
  });
});

describe('credential groups', () => {
  const dockerfile = 'FROM 127.0.0.1:5001/nxbk-base:latest\n';

  test('only sessions that hand out credentials for a registry their build may use are lenders (kept open for shared pulls)', () => {
    const plan = planCredentialGroups([
      creds('anonymous', dockerfile),
      creds('other-registry-only', dockerfile, noAccess),
      creds('with-access', dockerfile, withAccess),
      creds('arg-base', 'ARG BASE\nFROM $BASE\n', noAccess),
      creds('scratch', 'FROM scratch\n', withAccess),
    ]);
    expect(plan.lenders).toEqual(['with-access', 'arg-base']);
  });

  test('targets with the same credentials (from any file) share a group and never conflict', () => {
    const plan = planCredentialGroups([creds('a', dockerfile, withAccess), creds('b', dockerfile, sameAccessOtherFile)]);
    expect(plan.groups).toEqual([['a', 'b']]);
    expect(plan.conflicts).toEqual([]);
    expect(formatCredentialPlan(plan).join('\n')).toContain('every target may build alongside every other');
  });

  test('no credentials against credentials, or two passwords, for a registry both pull from: kept apart, with why', () => {
    const plan = planCredentialGroups([creds('a', dockerfile, noAccess), creds('b', dockerfile, withAccess), creds('c', dockerfile, otherPassword), creds('d', dockerfile, withAccess)]);
    expect(plan.groups).toEqual([['a'], ['b', 'd'], ['c']]);
    expect([...conflictMap(plan).get('b')!].sort()).toEqual(['a', 'c']);
    expect(conflictMap(plan).get('d')?.has('b')).toBeFalsy();
    const text = formatCredentialPlan(plan).join('\n');
    expect(text).toContain('a / b on 127.0.0.1:5001: a uses none in /cfg/config.json (anonymous) (FROM line 1); b uses auths entry "127.0.0.1:5001" of /cfg/config.json (FROM line 1)');
    expect(text).not.toContain('secret-');
  });

  test('different credentials for a registry only one of them uses: no conflict', () => {
    const plan = planCredentialGroups([creds('a', 'FROM busybox\n', noAccess), creds('b', dockerfile, withAccess)]);
    expect(plan.conflicts).toEqual([]);
  });

  test('a build-arg reference conflicts with any target whose credentials differ for a registry that target uses', () => {
    const plan = planCredentialGroups([creds('a', 'ARG BASE\nFROM $BASE\n', noAccess), creds('b', dockerfile, withAccess), creds('c', 'FROM busybox\n', withAccess)]);
    expect(plan.conflicts.map((c) => `${c.a}/${c.b}@${c.host}`)).toEqual(['a/b@127.0.0.1:5001']);
    expect(formatCredentialPlan(plan).join('\n')).toContain('may use any registry: $BASE (line 2)');
  });

  test('two build-arg references: every registry either has credentials for counts', () => {
    const plan = planCredentialGroups([creds('a', 'ARG B\nFROM $B\n'), creds('b', 'ARG B\nFROM $B\n', withAccess)]);
    expect(plan.conflicts.map((c) => c.host)).toEqual(['127.0.0.1:5001']);
  });

  test('pushing with other credentials conflicts with pulling from the same registry', () => {
    const plan = planCredentialGroups([
      creds('a', 'FROM busybox\n', otherPassword, { outputs: [{ type: 'image', names: ['127.0.0.1:5001/app:1'], push: true }] }),
      creds('b', dockerfile, withAccess),
    ]);
    expect(plan.conflicts.map((c) => `${c.aWhy} / ${c.bWhy}`)).toEqual(['push / FROM line 1']);
  });

  test('credential helpers: the same helper in the same environment is the same credential, another environment is not', () => {
    const helper = { credHelpers: { '127.0.0.1:5001': 'vault' } };
    const same = planCredentialGroups([creds('a', dockerfile, identity(helper, { PATH: '/bin' })), creds('b', dockerfile, identity(helper, { PATH: '/bin' }))]);
    expect(same.conflicts).toEqual([]);
    const other = planCredentialGroups([creds('a', dockerfile, identity(helper, { PATH: '/bin' })), creds('b', dockerfile, identity(helper, { PATH: '/other' }))]);
    expect(other.conflicts.map((c) => c.aSource)).toEqual(['credential helper docker-credential-vault']);
  });
});
