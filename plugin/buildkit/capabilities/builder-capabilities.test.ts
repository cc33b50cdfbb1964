import { describe, expect, test } from 'bun:test';
import type { BuildkitClient } from '../client';
import { BuildkitError } from '../errors';
import { probeBinding } from './binding-probe';
import { BuilderCapabilities, formatCapabilities } from './builder-capabilities';
import type { CapabilityStore, RememberedCapabilities } from './capability-store';

/** A store in memory, counting what it is asked. */
function memoryStore(initial: Record<string, RememberedCapabilities> = {}) {
  const kept = new Map(Object.entries(initial));
  const calls = { read: 0, write: 0, forget: 0 };
  const store: CapabilityStore = {
    read: async (identity) => (calls.read++, kept.get(identity)),
    write: async (identity, answers) => void (calls.write++, kept.set(identity, { ...kept.get(identity), ...answers })),
    forget: async (identity) => void (calls.forget++, kept.delete(identity)),
  };
  return { store, kept, calls };
}

/** The identity builder-identity.ts gives the fake client (a buildkitd). */
const fakeIdentity = 'buildkitd v0.32.2 workers worker-1';

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
    listWorkers: async () => [{ id: 'worker-1', labels: {}, platforms: [] }],
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
      sources: { binding: 'probe', namedContexts: 'probe' },
      exporters: ['image', 'oci', 'docker', 'local', 'tar'],
      cacheExporters: ['inline', 'registry', 'local', 'gha', 's3', 'azblob'],
      sessionTransports: ['grpc'],
    });
    expect(formatCapabilities(report)).toBe(
      [
        'builder unix:///fake.sock (BuildKit v0.32.2)',
        '  binding: local-sessionid (probed)',
        '  named contexts: yes (probed)',
        '  exporters: image, oci, docker, local, tar',
        '  cache exporters: inline, registry, local, gha, s3, azblob',
        '  session transports: grpc',
      ].join('\n'),
    );
  });
});

describe('BuilderCapabilities with a store', () => {
  test('a probed answer is kept under the builder identity; the next run on that builder takes it without a probe', async () => {
    const { store, kept } = memoryStore();
    const first = fakeClient([notUsed('context'), 'ok', 'ok']);
    const capabilities = new BuilderCapabilities(first.client, { store });
    expect(await capabilities.binding()).toBe('frontend-inputs');
    expect(await capabilities.namedContexts()).toBe(true);
    expect(capabilities.bindingSource).toBe('probe');
    expect(kept.get(fakeIdentity)).toEqual({ binding: 'frontend-inputs', namedContexts: true });

    const second = fakeClient([]);
    const next = new BuilderCapabilities(second.client, { store });
    const report = await next.report();
    expect(report.binding).toBe('frontend-inputs');
    expect(report.namedContexts).toBe(true);
    expect(report.sources).toEqual({ binding: 'store', namedContexts: 'store' });
    expect(second.solves()).toBe(0);
    expect(formatCapabilities(report)).toContain('  binding: frontend-inputs (remembered from an earlier run)\n  named contexts: yes (remembered from an earlier run)\n');
  });

  test('another builder at the same address is probed: the key is its identity, not its address', async () => {
    const { store } = memoryStore({ 'buildkitd v0.32.2 workers other-worker': { binding: 'prefetch' } });
    const { client, solves } = fakeClient(['ok']);
    const capabilities = new BuilderCapabilities(client, { store });
    expect(await capabilities.binding()).toBe('local-sessionid');
    expect(capabilities.bindingSource).toBe('probe');
    expect(solves()).toBe(1);
  });

  test('a remembered binding proved wrong is probed again: the store forgets it and keeps the new answer', async () => {
    const { store, kept, calls } = memoryStore({ [fakeIdentity]: { binding: 'local-sessionid', namedContexts: true } });
    const { client, solves } = fakeClient([notUsed('context'), 'ok', new BuildkitError('unknown', 'failed to resolve 127.0.0.1:1/nxbk-named-context-probe: connection refused')]);
    const capabilities = new BuilderCapabilities(client, { store });
    expect(await capabilities.binding()).toBe('local-sessionid');
    expect(capabilities.bindingSource).toBe('store');
    expect(await capabilities.reprobeBinding()).toBe('frontend-inputs');
    expect(capabilities.bindingSource).toBe('probe');
    expect(await capabilities.binding()).toBe('frontend-inputs');
    expect(calls.forget).toBe(1);
    expect(solves()).toBe(2);
    // The named-context answer went with the wrong one: probed again too.
    expect(await capabilities.namedContexts()).toBe(false);
    expect(kept.get(fakeIdentity)).toEqual({ binding: 'frontend-inputs', namedContexts: false });
  });

  test('a builder that cannot say who it is, or a store that fails, leaves the answer to the probe', async () => {
    const failing: CapabilityStore = {
      read: async () => { throw new Error('disk on fire'); },
      write: async () => { throw new Error('read-only'); },
      forget: async () => {},
    };
    const { client, solves } = fakeClient(['ok']);
    const capabilities = new BuilderCapabilities(client, { store: failing });
    expect(await capabilities.binding()).toBe('local-sessionid');
    expect(solves()).toBe(1);

    const { store, calls } = memoryStore();
    const anonymous = fakeClient(['ok']);
    (anonymous.client as unknown as { listWorkers: () => Promise<unknown[]> }).listWorkers = async () => [];
    expect(await new BuilderCapabilities(anonymous.client, { store }).binding()).toBe('local-sessionid');
    expect(calls).toEqual({ read: 0, write: 0, forget: 0 });
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
