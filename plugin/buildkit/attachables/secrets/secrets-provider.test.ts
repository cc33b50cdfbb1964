import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import util from 'node:util';
import { BuildkitError } from '../../errors';
import { messageCodec } from '../../protocol/root';
import { maxSecretBytes } from './secret-source';
import { SecretsProvider } from './secrets-provider';

const requestCodec = messageCodec<{ ID?: string }>('moby.buildkit.secrets.v1.GetSecretRequest');
const responseCodec = messageCodec<{ data?: Uint8Array }>('moby.buildkit.secrets.v1.GetSecretResponse');

let dir: string;
beforeAll(() => {
  // Not "nxbk-secret…": that is the e2e registry's password, which an e2e run in the same
  // process registers for scrubbing, and messages naming this directory would be redacted.
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-sp-unit-'));
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Serve `provider` on a real grpc-js server over a unix socket; returns a client and a stopper. */
async function serve(provider: SecretsProvider) {
  const server = new grpc.Server();
  provider.register({ addService: (d, impl) => server.addService(d, impl) });
  const address = `unix://${path.join(dir, `grpc-${Math.random().toString(36).slice(2)}.sock`)}`;
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const getSecret = (id: string) =>
    new Promise<{ code: number; details?: string; data?: Buffer }>((resolve) => {
      client.makeUnaryRequest('/moby.buildkit.secrets.v1.Secrets/GetSecret', requestCodec.serialize, responseCodec.deserialize, { ID: id }, (err, res) =>
        resolve(err ? { code: err.code, details: err.details } : { code: 0, data: Buffer.from(res!.data ?? new Uint8Array()) }));
    });
  return { getSecret, stop: () => { client.close(); server.forceShutdown(); } };
}

async function loadError(p: Promise<unknown>): Promise<BuildkitError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return err as BuildkitError;
  }
  throw new Error('expected load to fail');
}

describe('SecretsProvider', () => {
  test('serves secrets from a file, an environment variable and memory; unknown IDs are NOT_FOUND', async () => {
    const file = path.join(dir, 'token');
    fs.writeFileSync(file, 'file-secret-value\n');
    const provider = await SecretsProvider.load(
      [{ id: 'a', file }, { id: 'b', env: 'NXBK_TEST_B' }, { id: 'c', value: new Uint8Array([0, 1, 2, 255]) }, { id: 'empty', env: 'NXBK_EMPTY' }],
      { env: { NXBK_TEST_B: 'env-secret-value', NXBK_EMPTY: '' } },
    );
    expect(provider.ids).toEqual(['a', 'b', 'c', 'empty']);
    const { getSecret, stop } = await serve(provider);
    try {
      expect((await getSecret('a')).data?.toString()).toBe('file-secret-value\n');
      expect((await getSecret('b')).data?.toString()).toBe('env-secret-value');
      expect([...(await getSecret('c')).data!]).toEqual([0, 1, 2, 255]);
      expect((await getSecret('empty')).data?.length).toBe(0);
      const unknown = await getSecret('nope');
      expect(unknown.code).toBe(grpc.status.NOT_FOUND);
      expect(unknown.details).toContain('nope');
    } finally {
      stop();
    }
  });

  test('the value is read once, up front: later changes to the file do not leak into a build', async () => {
    const file = path.join(dir, 'changing');
    fs.writeFileSync(file, 'first-value-1234');
    const provider = await SecretsProvider.load([{ id: 's', file }]);
    fs.writeFileSync(file, 'second-value-5678');
    const { getSecret, stop } = await serve(provider);
    try {
      expect((await getSecret('s')).data?.toString()).toBe('first-value-1234');
    } finally {
      stop();
    }
  });

  test('a missing file, a directory or an unset variable fail load, naming the secret and its source', async () => {
    const missing = await loadError(SecretsProvider.load([{ id: 'ok', value: 'x' }, { id: 'gone', file: path.join(dir, 'no-such-file') }]));
    expect(missing.code).toBe('not-found');
    expect(missing.message).toContain('"gone"');
    expect(missing.message).toContain(path.join(dir, 'no-such-file'));

    const directory = await loadError(SecretsProvider.load([{ id: 'dir', file: dir }]));
    expect(directory.message).toContain('"dir"');
    expect(directory.message).toContain('is a directory');

    const unset = await loadError(SecretsProvider.load([{ id: 'tok', env: 'NXBK_SURELY_UNSET' }], { env: {} }));
    expect(unset.message).toBe('secret "tok": environment variable NXBK_SURELY_UNSET is not set');
  });

  test('secrets larger than 500 KiB are refused without reading them; exactly 500 KiB is served', async () => {
    const big = path.join(dir, 'big');
    fs.writeFileSync(big, Buffer.alloc(maxSecretBytes + 1, 'a'));
    const tooBig = await loadError(SecretsProvider.load([{ id: 'big', file: big }]));
    expect(tooBig.code).toBe('invalid-argument');
    expect(tooBig.message).toContain('"big"');
    expect(tooBig.message).toContain(`${maxSecretBytes + 1} bytes`);
    expect(tooBig.message).not.toContain('aaaa');

    expect(() => new SecretsProvider({ mem: Buffer.alloc(maxSecretBytes + 1) })).toThrow(/"mem".*500 KiB/);
    const bigEnv = await loadError(SecretsProvider.load([{ id: 'e', env: 'BIG' }], { env: { BIG: 'b'.repeat(maxSecretBytes + 1) } }));
    expect(bigEnv.message).toContain('environment variable BIG');

    const limit = path.join(dir, 'limit');
    fs.writeFileSync(limit, Buffer.alloc(maxSecretBytes, 'z'));
    const { getSecret, stop } = await serve(await SecretsProvider.load([{ id: 'limit', file: limit }]));
    try {
      expect((await getSecret('limit')).data?.length).toBe(maxSecretBytes);
    } finally {
      stop();
    }
  });

  test('bad specs: duplicate IDs, no source, two sources, empty ID', async () => {
    expect((await loadError(SecretsProvider.load([{ id: 'a', value: '1' }, { id: 'a', value: '2' }]))).message).toContain('more than once');
    expect((await loadError(SecretsProvider.load([{ id: 'a' } as never]))).message).toContain('exactly one source');
    expect((await loadError(SecretsProvider.load([{ id: 'a', value: '1', env: 'X' } as never]))).message).toContain('got env and value');
    expect((await loadError(SecretsProvider.load([{ id: '', value: '1' }]))).code).toBe('invalid-argument');
  });

  test('values are scrubbed from BuildkitError messages and never shown by inspection', async () => {
    const file = path.join(dir, 'scrub');
    fs.writeFileSync(file, 'scrub-me-4f9a1c\n');
    const provider = await SecretsProvider.load([{ id: 'scrub', file }, { id: 'env', env: 'V' }], { env: { V: 'env-value-77d2e0' } });
    const err = new BuildkitError('unknown', 'daemon said: process "sh -c test scrub-me-4f9a1c = x" failed; env-value-77d2e0');
    expect(err.message).toBe('daemon said: process "sh -c test <redacted> = x" failed; <redacted>');
    expect(BuildkitError.from(Object.assign(new Error('x'), { code: 2, details: 'got scrub-me-4f9a1c\n' })).message).not.toContain('scrub-me');
    for (const shown of [util.inspect(provider, { showHidden: true, depth: 10 }), JSON.stringify({ provider }), String(provider)]) {
      expect(shown).toContain('scrub');
      expect(shown).not.toContain('scrub-me');
      expect(shown).not.toContain('env-value');
    }
  });
});
