import { afterAll, beforeAll, expect, test } from 'bun:test';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { checkPushedImage } from './check-pushed-image';

// An engine speaking just GET /images/<name>/json, on a unix socket like the Docker engine's.
const held = new Map([['app:latest', 'sha256:' + 'c'.repeat(64)], ['other:latest', 'sha256:' + 'd'.repeat(64)]]);
let dir: string;
let server: http.Server;
let socketPath: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-loaded-'));
  socketPath = path.join(dir, 'engine.sock');
  server = http.createServer((req, res) => {
    const m = /^\/images\/(.+)\/json$/.exec(req.url ?? '');
    const id = m ? held.get(decodeURIComponent(m[1]!)) : undefined;
    if (!id) return void res.writeHead(404).end('{"message":"No such image"}');
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Id: id }));
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
});
afterAll(() => {
  server.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const metadata = (m: Record<string, unknown>) => {
  const file = path.join(dir, `m-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify(m));
  return file;
};

test('a loaded image the engine still holds by ID: ok', async () => {
  const file = metadata({ imageNames: ['app:latest'], loaded: true, loadedInto: { socketPath }, configDigest: held.get('app:latest'), digest: 'sha256:' + 'e'.repeat(64) });
  expect((await checkPushedImage(file)).value).toBe('ok');
});

test('removed from the engine, or the name now holds other content: gone', async () => {
  expect((await checkPushedImage(metadata({ imageNames: ['removed:latest'], loaded: true, loadedInto: { socketPath }, configDigest: 'sha256:' + 'c'.repeat(64) }))).value).toBe('gone removed:latest');
  expect((await checkPushedImage(metadata({ imageNames: ['other:latest'], loaded: true, loadedInto: { socketPath }, configDigest: 'sha256:' + 'c'.repeat(64) }))).value).toBe('gone other:latest');
});

test('an engine that cannot be asked, or metadata without an engine: unverified (the target runs)', async () => {
  expect((await checkPushedImage(metadata({ imageNames: ['app:latest'], loaded: true, loadedInto: { socketPath: path.join(dir, 'none.sock') }, configDigest: 'sha256:x' }))).value).toBe('unverified app:latest');
  expect((await checkPushedImage(metadata({ imageNames: ['app:latest'], loaded: true, configDigest: 'sha256:x' }))).value).toBe('unverified loaded');
});

test('neither pushed nor loaded: ok without asking anyone', async () => {
  expect((await checkPushedImage(metadata({ imageNames: ['app:latest'], pushed: false }))).value).toBe('ok');
});
