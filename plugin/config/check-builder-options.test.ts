import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkBuilderOptions } from './check-builder-options';
import { parseImageOptions } from './executor-options';

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-builder-options-'));
  fs.mkdirSync(path.join(root, 'tls'));
  // A real self-signed certificate and its key, so the accepting case is a true one.
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=buildkitd', '-keyout', path.join(root, 'tls/key.pem'), '-out', path.join(root, 'tls/cert.pem')], { stdio: 'ignore' });
  fs.writeFileSync(path.join(root, 'tls/garbage.pem'), '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n');
  fs.writeFileSync(path.join(root, 'tls/plain.txt'), 'secret-looking-text\n');
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const check = (raw: Record<string, unknown>) => checkBuilderOptions(parseImageOptions(raw, { project: 'app', target: 'image' }), { project: 'app', target: 'image' }, root);

describe('checkBuilderOptions', () => {
  test('valid addresses and readable PEM files pass', () => {
    expect(check({ builder: 'tcp://127.0.0.1:1234', builderTls: { caFile: 'tls/cert.pem', certFile: 'tls/cert.pem', keyFile: 'tls/key.pem', serverName: 'buildkitd' } })).toEqual([]);
    expect(check({ builder: 'docker:///var/run/docker.sock' })).toEqual([]);
    expect(check({})).toEqual([]);
  });

  test('an address with an unknown scheme names project, target, field and the address', () => {
    expect(check({ builder: 'ftp://127.0.0.1:9' })).toEqual(['app:image: option "builder": invalid builder address "ftp://127.0.0.1:9": unknown scheme "ftp"']);
  });

  test('a missing TLS file is named with its absolute path', () => {
    expect(check({ builder: 'tcp://127.0.0.1:1234', builderTls: { caFile: 'tls/missing.pem' } })).toEqual([
      `app:image: option "builderTls.caFile": ${path.join(root, 'tls/missing.pem')} does not exist`,
    ]);
  });

  test('garbage PEM and non-PEM files are refused without quoting them', () => {
    const problems = check({ builderTls: { caFile: 'tls/garbage.pem', certFile: 'tls/plain.txt', keyFile: 'tls/garbage.pem' } });
    expect(problems).toEqual([
      `app:image: option "builderTls.caFile": ${path.join(root, 'tls/garbage.pem')} holds a PEM certificate that cannot be parsed`,
      `app:image: option "builderTls.certFile": ${path.join(root, 'tls/plain.txt')} holds no PEM certificate ("-----BEGIN CERTIFICATE-----")`,
      `app:image: option "builderTls.keyFile": ${path.join(root, 'tls/garbage.pem')} holds no PEM private key that can be parsed (an encrypted key needs decrypting first)`,
    ]);
    expect(problems.join('\n')).not.toContain('secret-looking-text');
  });

  test('a client certificate needs its key', () => {
    expect(check({ builderTls: { certFile: 'tls/cert.pem' } })).toEqual(['app:image: option "builderTls": certFile and keyFile must be given together']);
  });
});
