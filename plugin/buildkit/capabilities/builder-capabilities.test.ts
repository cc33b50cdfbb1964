import { describe, expect, test } from 'bun:test';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import { probeBinding } from './binding-probe';
import { BuilderCapabilities, formatCapabilities } from './builder-capabilities';

/** Enough of a client for the probes: solves answer from `answers` in order and are counted. */
function fakeClient(answers: Array<Error | 'ok'>, address = { kind: 'unix', display: 'unix:///fake.sock' }) {
  let solves = 0;
  const client = {
    address,
    openSession: async () => ({ id: `s${Math.random()}`, close: async () => {}, [Symbol.asyncDispose]: async () => {} }),
    solve: async () => {
      const answer = answers[solves++] ?? new Error('no more answers');
      if (answer !== 'ok') throw answer;
      return { exporterResponse: {} };
    },
    imageStore: async () => undefined,
    control: { info: async () => ({ package: 'github.com/moby/buildkit', version: 'v0.32.2', revision: 'x' }) },
  };
  return { client: client as unknown as BuildkitClient, solves: () => solves };
}

const notUsed = (dir: string) => new BuildkitError('unknown', `no access allowed to dir "${dir}"`);

describe('BuilderCapabilities', () => {
  test('each capability is probed once for the life of the object', async () => {
    const { client, solves } = fakeClient([notUsed('context'), 'ok', 'ok']);
    const capabilities = new BuilderCapabilities(client);
    expect(await capabilities.binding()).toBe('frontend-inputs');
    expect(await capabilities.binding()).toBe('frontend-inputs');
    expect(await capabilities.namedContexts()).toBe(true);
    expect(await capabilities.namedContexts()).toBe(true);
    expect(solves()).toBe(3);
  });

  test('a frontend that takes local-sessionid attributes knows named contexts: no second probe', async () => {
    const { client, solves } = fakeClient(['ok']);
    const capabilities = new BuilderCapabilities(client);
    expect(await capabilities.binding()).toBe('local-sessionid');
    expect(await capabilities.namedContexts()).toBe(true);
    expect(solves()).toBe(1);
  });

  test('a failed probe is not an answer: the next call asks again', async () => {
    const unreachable = new BuildkitError('unavailable', 'cannot reach the builder');
    const { client } = fakeClient([unreachable, 'ok']);
    const capabilities = new BuilderCapabilities(client);
    await expect(capabilities.binding()).rejects.toThrow(/cannot reach the builder/);
    expect(await capabilities.binding()).toBe('local-sessionid');
  });

  test('the report of a standalone buildkitd, as --print shows it', async () => {
    const { client } = fakeClient(['ok']);
    const report = await new BuilderCapabilities(client).report();
    expect(report).toEqual({
      builder: 'unix:///fake.sock',
      version: 'v0.32.2',
      binding: 'local-sessionid',
      namedContexts: true,
      exporters: ['image', 'oci', 'docker', 'local', 'tar'],
      cacheExporters: ['inline', 'registry', 'local', 'gha', 's3', 'azblob'],
      sessionTransports: ['grpc'],
    });
    expect(formatCapabilities(report)).toBe(
      [
        'builder unix:///fake.sock (BuildKit v0.32.2)',
        '  binding: local-sessionid',
        '  named contexts: yes',
        '  exporters: image, oci, docker, local, tar',
        '  cache exporters: inline, registry, local, gha, s3, azblob',
        '  session transports: grpc',
      ].join('\n'),
    );
  });
});

describe('probeBinding', () => {
  test('an unreachable daemon is an error, never an answer, even if its message says "not found"', async () => {
    const unreachable = new BuildkitError('unavailable', 'cannot reach the builder at unix:///x (socket not found)');
    const { client } = fakeClient([unreachable, unreachable]);
    await expect(probeBinding(client)).rejects.toThrow(/cannot reach the builder/);
  });

  test('"the other session was not used" answers lead down to prefetch', async () => {
    const { client } = fakeClient([
      new BuildkitError('unknown', 'failed to read dockerfile: no access allowed to dir "context"'),
      new BuildkitError('not-found', 'no access allowed to dir "probe-context"'),
    ]);
    expect(await probeBinding(client)).toBe('prefetch');
  });

  test('a probe the daemon cancelled on its own is asked again, not taken as an answer', async () => {
    const canceled = new BuildkitError('cancelled', 'solve: context canceled');
    const { client, solves } = fakeClient([canceled, notUsed('context'), 'ok']);
    expect(await probeBinding(client)).toBe('frontend-inputs');
    expect(solves()).toBe(3);
  });
});
