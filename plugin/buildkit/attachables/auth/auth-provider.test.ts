import { afterAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { redact } from '../../redact';
import { AuthProvider } from './auth-provider';
import { authServiceDefinition } from './wire';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-auth-provider-'));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** A config dir holding `config`, and a bin dir for helpers. */
function workspace(name: string, config: unknown | string): { configDir: string; binDir: string } {
  const configDir = path.join(tmp, name, 'docker');
  const binDir = path.join(tmp, name, 'bin');
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(binDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'config.json'), typeof config === 'string' ? config : JSON.stringify(config));
  return { configDir, binDir };
}

function helper(binDir: string, name: string, body: string): void {
  const file = path.join(binDir, `docker-credential-${name}`);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`);
  fs.chmodSync(file, 0o755);
}

type Call = (method: string, request: object) => Promise<{ code: number; details: string; response?: Record<string, unknown> }>;

/** Serve `provider` on a loopback gRPC server and call it as the daemon would. */
async function serve(provider: AuthProvider): Promise<{ call: Call; [Symbol.asyncDispose](): Promise<void> }> {
  const server = new grpc.Server();
  provider.register({ addService: (d, impl) => server.addService(d, impl) });
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  const Client = grpc.makeGenericClientConstructor(authServiceDefinition, 'Auth');
  const client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure()) as unknown as Record<
    string,
    (req: object, cb: (err: grpc.ServiceError | null, res?: Record<string, unknown>) => void) => void
  >;
  const call: Call = (method, request) =>
    new Promise((resolve) =>
      client[method]!.call(client, request, (err, res) => resolve(err ? { code: err.code, details: err.details } : { code: 0, details: '', response: res })),
    );
  return {
    call,
    async [Symbol.asyncDispose]() {
      (client as unknown as grpc.Client).close();
      await new Promise<void>((r) => server.tryShutdown(() => r()));
      provider.close();
    },
  };
}

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('AuthProvider over gRPC', () => {
  test('Credentials from auths entries; unknown hosts get an empty (anonymous) answer', async () => {
    const { configDir } = workspace('entries', {
      auths: {
        '127.0.0.1:5001': { auth: b64('nxbk:entry-secret-1') },
        'https://index.docker.io/v1/': { username: 'hubuser', password: 'hub-password-1' },
        'tokens.example': { identitytoken: 'identity-token-1' },
      },
    });
    await using s = await serve(await AuthProvider.fromDockerConfig({ configDir, env: {} }));
    expect((await s.call('Credentials', { Host: '127.0.0.1:5001' })).response).toEqual({ Username: 'nxbk', Secret: 'entry-secret-1' });
    expect((await s.call('Credentials', { Host: 'registry-1.docker.io' })).response).toEqual({ Username: 'hubuser', Secret: 'hub-password-1' });
    expect((await s.call('Credentials', { Host: 'tokens.example' })).response).toEqual({ Secret: 'identity-token-1' });
    expect(await s.call('Credentials', { Host: 'unknown.example' })).toEqual({ code: 0, details: '', response: {} });
    // Handed-out secrets are scrubbed from every later message.
    expect(redact('daemon said: entry-secret-1 / identity-token-1')).toBe('daemon said: <redacted> / <redacted>');
  });

  test('GetTokenAuthority answers UNAVAILABLE so the daemon fetches tokens itself', async () => {
    const { configDir } = workspace('no-authority', { auths: { 'reg.example': { auth: b64('u:p-123456789') } } });
    await using s = await serve(await AuthProvider.fromDockerConfig({ configDir, env: {} }));
    const answer = await s.call('GetTokenAuthority', { Host: 'reg.example', Salt: new Uint8Array([1, 2, 3]) });
    expect(answer.code).toBe(grpc.status.UNAVAILABLE);
    expect((await s.call('FetchToken', { Host: 'reg.example' })).code).toBe(grpc.status.UNAVAILABLE);
  });

  test('a registrytoken is handed out through the token authority, under a key the daemon can verify', async () => {
    const { configDir } = workspace('registry-token', { auths: { 'bearer.example': { registrytoken: 'static-bearer-token-1' } } });
    await using s = await serve(await AuthProvider.fromDockerConfig({ configDir, env: {} }));
    const salt = crypto.randomBytes(16);
    const authority = await s.call('GetTokenAuthority', { Host: 'bearer.example', Salt: salt });
    expect(authority.code).toBe(0);
    const publicKey = Buffer.from(authority.response!['PublicKey'] as Uint8Array);
    expect(publicKey.length).toBe(32);
    // Same host and salt → same key; another salt → another key.
    const again = await s.call('GetTokenAuthority', { Host: 'bearer.example', Salt: salt });
    expect(Buffer.from(again.response!['PublicKey'] as Uint8Array).equals(publicKey)).toBe(true);
    const other = await s.call('GetTokenAuthority', { Host: 'bearer.example', Salt: crypto.randomBytes(16) });
    expect(Buffer.from(other.response!['PublicKey'] as Uint8Array).equals(publicKey)).toBe(false);

    const token = await s.call('FetchToken', { Host: 'bearer.example', Realm: 'https://auth', Service: 'svc', Scopes: ['repository:x:pull'] });
    expect(token.response).toMatchObject({ Token: 'static-bearer-token-1' });
    expect(Number(token.response!['ExpiresIn'])).toBeGreaterThan(0);

    const payload = crypto.randomBytes(32);
    const verified = await s.call('VerifyTokenAuthority', { Host: 'bearer.example', Salt: salt, Payload: payload });
    const signed = Buffer.from(verified.response!['Signed'] as Uint8Array);
    expect(signed.subarray(64).equals(payload)).toBe(true); // NaCl sign layout: signature ‖ message
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), publicKey]);
    const key = crypto.createPublicKey({ key: spki, format: 'der', type: 'spki' });
    expect(crypto.verify(null, payload, key, signed.subarray(0, 64))).toBe(true);
    // No credentials for the basic-auth path.
    expect((await s.call('Credentials', { Host: 'bearer.example' })).response).toEqual({});
  });

  test('credHelpers and credsStore run helpers from the injected PATH, once per host', async () => {
    const { configDir, binDir } = workspace('helpers', {
      credsStore: 'store',
      credHelpers: { 'special.example': 'special' },
      auths: { 'special.example': { auth: b64('ignored:ignored-password') } },
    });
    const log = path.join(binDir, 'calls.log');
    helper(binDir, 'store', `read url\necho "store $url" >> ${log}\nif [ "$url" = none.example ]; then echo "credentials not found in native keychain"; exit 1; fi\necho "{\\"Username\\":\\"store-user\\",\\"Secret\\":\\"store-secret-for-$url\\"}"`);
    helper(binDir, 'special', `read url\necho "special $url" >> ${log}\necho '{"Username":"<token>","Secret":"special-identity-token"}'`);
    const provider = await AuthProvider.fromDockerConfig({ configDir, env: { PATH: `${binDir}:/usr/bin:/bin` } });
    await using s = await serve(provider);
    expect((await s.call('Credentials', { Host: 'special.example' })).response).toEqual({ Secret: 'special-identity-token' });
    expect((await s.call('Credentials', { Host: 'reg.example' })).response).toEqual({ Username: 'store-user', Secret: 'store-secret-for-reg.example' });
    expect((await s.call('Credentials', { Host: 'registry-1.docker.io' })).response).toEqual({ Username: 'store-user', Secret: 'store-secret-for-https://index.docker.io/v1/' });
    expect((await s.call('Credentials', { Host: 'none.example' })).response).toEqual({});
    expect((await s.call('Credentials', { Host: 'reg.example' })).response).toEqual({ Username: 'store-user', Secret: 'store-secret-for-reg.example' });
    expect(fs.readFileSync(log, 'utf8').trim().split('\n')).toEqual([
      'special special.example',
      'store reg.example',
      'store https://index.docker.io/v1/',
      'store none.example',
    ]);
    expect(provider.credentialRequests).toEqual(['special.example', 'reg.example', 'registry-1.docker.io', 'none.example', 'reg.example']);
    expect(redact('x store-secret-for-reg.example y')).toBe('x <redacted> y');
  });

  test('a failing or hanging helper fails the call with a message naming it (not UNAVAILABLE/UNIMPLEMENTED)', async () => {
    const { configDir, binDir } = workspace('failing', { credHelpers: { 'fail.example': 'fail', 'hang.example': 'hang' } });
    helper(binDir, 'fail', 'echo "helper-stderr-secret" >&2\necho "backend unreachable"\nexit 2');
    helper(binDir, 'hang', 'exec sleep 30');
    await using s = await serve(await AuthProvider.fromDockerConfig({ configDir, env: { PATH: `${binDir}:/usr/bin:/bin` }, helperTimeoutMs: 300 }));
    const failed = await s.call('Credentials', { Host: 'fail.example' });
    expect(failed.code).toBe(grpc.status.INTERNAL);
    expect(failed.details).toContain('docker-credential-fail failed for fail.example (exit code 2): backend unreachable');
    expect(failed.details).not.toContain('helper-stderr-secret');
    const start = Date.now();
    const hung = await s.call('Credentials', { Host: 'hang.example' });
    expect(Date.now() - start).toBeLessThan(3_000);
    expect(hung.code).toBe(grpc.status.INTERNAL);
    expect(hung.details).toContain('docker-credential-hang did not answer for hang.example within 300 ms');
  });
});

describe('AuthProvider.fromDockerConfig', () => {
  test('a malformed config.json is a BuildkitError naming the file', async () => {
    const { configDir } = workspace('malformed', '{"auths": {"r": {"auth": "bm90LWEtcGFpcg=="}}');
    let error: unknown;
    try {
      await AuthProvider.fromDockerConfig({ configDir, env: {} });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BuildkitError);
    expect((error as BuildkitError).code).toBe('invalid-argument');
    expect((error as BuildkitError).message).toContain(path.join(configDir, 'config.json'));
    expect((error as BuildkitError).message).toContain('not valid JSON');
  });

  test('DOCKER_CONFIG from the given env; a missing config file means anonymous', async () => {
    const { configDir } = workspace('env-dir', { auths: { 'env.example': { username: 'from-env', password: 'env-password-1' } } });
    expect(await (await AuthProvider.fromDockerConfig({ env: { DOCKER_CONFIG: configDir } })).credentials('env.example')).toEqual({
      username: 'from-env',
      secret: 'env-password-1',
    });
    const home = path.join(tmp, 'empty-home');
    fs.mkdirSync(home, { recursive: true });
    expect(await (await AuthProvider.fromDockerConfig({ env: { HOME: home } })).credentials('env.example')).toBeUndefined();
  });
});
