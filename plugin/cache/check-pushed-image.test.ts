import { afterAll, beforeAll, expect, test } from 'bun:test';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { checkPushedImage } from './check-pushed-image';

// A registry speaking just enough of the distribution API: manifests by
// digest under /v2/<repo>/manifests/, anonymous (`open/…`), Basic (`basic/…`)
// or Bearer with a token realm (`bearer/…`).
const digest = `sha256:${'a'.repeat(64)}`;
const present = new Set(['open/app', 'basic/app', 'bearer/app']);
const requests: string[] = [];
let server: http.Server;
let registry: string;
let dir: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-check-'));
  server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url} ${req.headers.authorization ?? '-'}`);
    const url = new URL(req.url!, 'http://x');
    if (url.pathname === '/token') {
      const basic = `Basic ${Buffer.from('user:pw').toString('base64')}`;
      if (req.headers.authorization !== basic || !/^repository:bearer\/[a-z]+:pull$/.test(url.searchParams.get('scope') ?? '') || url.searchParams.get('service') !== 'reg') {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'tok' }));
      return;
    }
    const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(url.pathname);
    if (!m || req.method !== 'HEAD') {
      res.writeHead(400).end();
      return;
    }
    const [, repo, ref] = m;
    if (repo!.startsWith('basic/') && req.headers.authorization !== `Basic ${Buffer.from('user:pw').toString('base64')}`) {
      res.writeHead(401, { 'www-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    if (repo!.startsWith('bearer/') && req.headers.authorization !== 'Bearer tok') {
      res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${registry}/token",service="reg",scope="repository:${repo}:pull"` }).end();
      return;
    }
    if (repo!.startsWith('broken/')) {
      res.writeHead(500).end();
      return;
    }
    res.writeHead(present.has(repo!) && ref === digest ? 200 : 404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  registry = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  fs.mkdirSync(path.join(dir, 'docker'));
  fs.writeFileSync(path.join(dir, 'docker', 'config.json'), JSON.stringify({ auths: { [registry]: { auth: Buffer.from('user:pw').toString('base64') } } }));
});

afterAll(() => {
  server?.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Write a metadata file as the executor does, for images pushed to `repos` of the test registry. */
function metadata(repos: string[], extra: Record<string, unknown> = {}): string {
  const file = path.join(dir, `${Math.random().toString(36).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify({ imageNames: repos.map((r) => `${registry}/${r}:latest`), digest, pushed: true, insecureRegistry: true, ...extra }));
  return file;
}

const check = (file: string, withCredentials = false) =>
  checkPushedImage(file, { timeoutMs: 2000, env: { HOME: dir, PATH: '' }, ...(withCredentials ? { dockerConfigDir: path.join(dir, 'docker') } : {}) });

test('nothing to check: no metadata yet, or an image that was not pushed', async () => {
  expect((await check(path.join(dir, 'none.json'))).value).toBe('ok');
  expect((await check(metadata(['gone/app'], { pushed: false }))).value).toBe('ok');
});

test('a digest the registry serves is ok; a deleted one is named', async () => {
  expect((await check(metadata(['open/app']))).value).toBe('ok');
  const result = await check(metadata(['open/app', 'gone/app']));
  expect(result.value).toBe(`missing ${registry}/gone/app@${digest}`);
  expect(result.details).toContain(`${registry}/open/app@${digest}: present`);
});

test('tags of one repository are asked about once', async () => {
  requests.length = 0;
  const file = path.join(dir, 'tags.json');
  fs.writeFileSync(file, JSON.stringify({ imageNames: [`${registry}/open/app:latest`, `${registry}/open/app:1.0`], digest, pushed: true, insecureRegistry: true }));
  expect((await check(file)).value).toBe('ok');
  expect(requests).toEqual([`HEAD /v2/open/app/manifests/${digest} -`]);
});

test('Basic and Bearer challenges are answered with the Docker config credentials', async () => {
  expect((await check(metadata(['basic/app', 'bearer/app']), true)).value).toBe('ok');
  expect((await check(metadata(['bearer/gone']), true)).value).toBe(`missing ${registry}/bearer/gone@${digest}`);
});

test('fails closed when the registry cannot answer: no credentials, an error status, nobody listening', async () => {
  expect((await check(metadata(['basic/app']))).value).toBe(`unverified ${registry}/basic/app`);
  expect((await check(metadata(['broken/app']))).value).toBe(`unverified ${registry}/broken/app`);
  const closed = path.join(dir, 'closed.json');
  fs.writeFileSync(closed, JSON.stringify({ imageNames: ['127.0.0.1:1/x/app:latest'], digest, pushed: true, insecureRegistry: true }));
  const result = await check(closed);
  expect(result.value).toBe('unverified 127.0.0.1:1/x/app');
  expect(result.details[0]).toContain('network');
});

test('an unreadable metadata file is not taken for a verified one', async () => {
  const file = path.join(dir, 'garbage.json');
  fs.writeFileSync(file, '{not json');
  expect((await check(file)).value).toBe('unreadable');
  fs.writeFileSync(file, JSON.stringify({ pushed: true }));
  expect((await check(file)).value).toBe('unverified');
});
