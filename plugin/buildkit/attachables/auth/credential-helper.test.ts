import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { runCredentialHelper } from './credential-helper';

const binDir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-cred-helpers-'));
afterAll(() => fs.rmSync(binDir, { recursive: true, force: true }));

/** Write `docker-credential-<name>` as a shell script into the test bin dir. */
function helper(name: string, body: string): void {
  const file = path.join(binDir, `docker-credential-${name}`);
  fs.writeFileSync(file, `#!/bin/sh\n${body}\n`);
  fs.chmodSync(file, 0o755);
}

const env = { PATH: `${binDir}:/usr/bin:/bin`, HOME: binDir };
const options = { env, timeoutMs: 5_000 };

async function failure(p: Promise<unknown>): Promise<BuildkitError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return err as BuildkitError;
  }
  throw new Error('expected the helper to fail');
}

describe('runCredentialHelper (docker-credential-helpers protocol)', () => {
  test('success: server URL on stdin, credentials from the JSON answer', async () => {
    const seen = path.join(binDir, 'ok-stdin');
    helper('ok', `test "$1" = get || exit 9\ncat > ${seen}\necho '{"ServerURL":"x","Username":"nxbk","Secret":"pw-from-helper"}'`);
    const creds = await runCredentialHelper('ok', 'reg.example:5000', options);
    expect(creds).toEqual({ username: 'nxbk', secret: 'pw-from-helper' });
    expect(fs.readFileSync(seen, 'utf8')).toBe('reg.example:5000');
  });

  test('an identity token stored under the <token> username comes back with an empty username', async () => {
    helper('token', `cat >/dev/null\necho '{"ServerURL":"x","Username":"<token>","Secret":"identity-token-1"}'`);
    expect(await runCredentialHelper('token', 'reg.example', options)).toEqual({ username: '', secret: 'identity-token-1' });
  });

  test('"credentials not found" means anonymous', async () => {
    helper('none', 'cat >/dev/null\necho "credentials not found in native keychain"\nexit 1');
    expect(await runCredentialHelper('none', 'reg.example', options)).toBeUndefined();
  });

  test('an empty secret means anonymous', async () => {
    helper('empty', `cat >/dev/null\necho '{"ServerURL":"x","Username":"","Secret":""}'`);
    expect(await runCredentialHelper('empty', 'reg.example', options)).toBeUndefined();
  });

  test('a failing helper is an error naming it, quoting its stdout message but never its stderr', async () => {
    helper('broken', 'cat >/dev/null\necho "keychain is locked"\necho "leaked-secret-on-stderr" >&2\nexit 3');
    const error = await failure(runCredentialHelper('broken', 'reg.example', options));
    expect(error.message).toContain('docker-credential-broken');
    expect(error.message).toContain('exit code 3');
    expect(error.message).toContain('keychain is locked');
    expect(error.message).not.toContain('leaked-secret-on-stderr');
  });

  test('output that is not JSON is an error that does not quote it', async () => {
    helper('garbage', 'cat >/dev/null\necho "user=nxbk password=hunter2-secret"');
    const error = await failure(runCredentialHelper('garbage', 'reg.example', options));
    expect(error.code).toBe('protocol');
    expect(error.message).toContain('docker-credential-garbage');
    expect(error.message).not.toContain('hunter2-secret');
  });

  test('a hanging helper times out, and what it started is killed too', async () => {
    const pidFile = path.join(binDir, 'hang-pid');
    helper('hang', `sleep 30 &\necho $! > ${pidFile}\nwait`);
    const start = Date.now();
    const error = await failure(runCredentialHelper('hang', 'reg.example', { env, timeoutMs: 300 }));
    expect(Date.now() - start).toBeLessThan(3_000);
    expect(error.code).toBe('deadline-exceeded');
    expect(error.message).toContain('docker-credential-hang');
    expect(error.message).toContain('300 ms');
    const sleepPid = Number(fs.readFileSync(pidFile, 'utf8'));
    const deadline = Date.now() + 3_000;
    // A killed process may linger as a zombie until init reaps it; that counts as ended.
    const running = () => {
      try {
        return !/^\d+ \(.*\) Z/.test(fs.readFileSync(`/proc/${sleepPid}/stat`, 'utf8'));
      } catch {
        return false;
      }
    };
    let alive = running();
    while (alive && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 50));
      alive = running();
    }
    expect(alive).toBe(false);
  });

  test('aborting stops a running helper', async () => {
    helper('slow', 'sleep 30');
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 100);
    const start = Date.now();
    const error = await failure(runCredentialHelper('slow', 'reg.example', { ...options, signal: abort.signal }));
    expect(error.code).toBe('cancelled');
    expect(Date.now() - start).toBeLessThan(3_000);
  });

  test('a helper missing from the given PATH is an error naming it', async () => {
    const error = await failure(runCredentialHelper('does-not-exist', 'reg.example', options));
    expect(error.code).toBe('not-found');
    expect(error.message).toContain('docker-credential-does-not-exist not found on PATH');
  });

  test('the helper is looked up only on the PATH it is given', async () => {
    helper('elsewhere', `cat >/dev/null\necho '{"Username":"u","Secret":"s-elsewhere"}'`);
    const error = await failure(runCredentialHelper('elsewhere', 'reg.example', { ...options, env: { PATH: '/usr/bin:/bin' } }));
    expect(error.code).toBe('not-found');
  });
});
