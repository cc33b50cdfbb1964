import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import { buildImage } from './build-image';
import type { BuildSpec } from './build-spec';

let dir: string;
let savedTmp: string | undefined;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-build-image-'));
  savedTmp = process.env.TMPDIR;
});
afterEach(() => {
  if (savedTmp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmp;
  fs.rmSync(dir, { recursive: true, force: true });
});

/** A client that fails the test if buildImage ever talks to the daemon. */
function untouchableClient(calls: string[]): BuildkitClient {
  const refuse = (name: string) => () => {
    calls.push(name);
    throw new Error(`${name} must not be called`);
  };
  return {
    address: { kind: 'unix', path: '/nonexistent.sock', display: 'unix:///nonexistent.sock' },
    openSession: refuse('openSession'),
    solve: refuse('solve'),
    control: new Proxy({}, { get: (_, p) => refuse(`control.${String(p)}`) }),
  } as unknown as BuildkitClient;
}

function context(): BuildSpec {
  const contextDir = path.join(dir, 'ctx');
  fs.mkdirSync(contextDir);
  fs.writeFileSync(path.join(contextDir, 'Dockerfile'), 'FROM scratch\n');
  return { name: 'unit', contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), auth: false };
}

describe('buildImage before the daemon is contacted', () => {
  test('an invalid cache entry is refused first, before files are read or named contexts probed', async () => {
    const calls: string[] = [];
    const error = await buildImage(untouchableClient(calls), {
      name: 'unit',
      contextDir: path.join(dir, 'missing'),
      dockerfile: path.join(dir, 'missing', 'Dockerfile'),
      namedContexts: { base: { kind: 'image', ref: 'docker.io/library/busybox' } },
      cacheFrom: [{ type: 'local', attrs: { dest: '/wrong-side' } }],
    }).catch((e: BuildkitError) => e);
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).target).toBe('unit');
    expect((error as BuildkitError).message).toBe('cacheFrom[0] (type=local): missing attribute "src"');
    expect(calls).toEqual([]);
  });

  test('a missing Dockerfile is named once, in plain words, without asking the daemon', async () => {
    const spec = context();
    const missing = path.join(spec.contextDir, 'Missing.Dockerfile');
    const calls: string[] = [];
    const error = await buildImage(untouchableClient(calls), { ...spec, dockerfile: missing }).catch((e: BuildkitError) => e);
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).code).toBe('not-found');
    expect((error as BuildkitError).target).toBe('unit');
    expect((error as BuildkitError).message).toBe(`Dockerfile ${missing} does not exist`);
    expect(calls).toEqual([]);
  });

  test('a failure while preparing the session stops the private ssh-agent it had started', async () => {
    const spec = context();
    const key = path.join(dir, 'id_ed25519');
    execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]);
    const configDir = path.join(dir, 'docker-config');
    fs.mkdirSync(configDir);
    fs.writeFileSync(path.join(configDir, 'config.json'), '{ not json');
    // The agent's socket directory is made under TMPDIR; a private one shows whether it is left behind.
    const agentTmp = path.join(dir, 'agent-tmp');
    fs.mkdirSync(agentTmp);
    process.env.TMPDIR = agentTmp;
    const calls: string[] = [];
    const error = await buildImage(untouchableClient(calls), { ...spec, ssh: [{ id: 'default', paths: [key] }], auth: { configDir } }).catch((e: BuildkitError) => e);
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).message).toContain(path.join(configDir, 'config.json'));
    expect(fs.readdirSync(agentTmp)).toEqual([]);
    expect(calls).toEqual([]);
  });
});
