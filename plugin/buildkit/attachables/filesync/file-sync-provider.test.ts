import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import http2 from 'node:http2';
import os from 'node:os';
import path from 'node:path';
import { Duplex, PassThrough } from 'node:stream';
import { Session } from '../../session/session';
import { FileSyncProvider, type SyncedDir } from './file-sync-provider';
import { isDirectory, isSymlink } from './go-file-mode';
import { readDockerignore } from './patterns/ignore-file';
import { decodePacket, encodePacket, type Packet } from './wire';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-provider-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Two connected in-process duplexes. */
function pair(): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  const a = new Duplex({ read() {}, write(c, _e, cb) { aToB.write(c, cb); }, final(cb) { aToB.end(); cb(); } });
  const b = new Duplex({ read() {}, write(c, _e, cb) { bToA.write(c, cb); }, final(cb) { bToA.end(); cb(); } });
  aToB.on('data', (c: Buffer) => b.push(c));
  bToA.on('data', (c: Buffer) => a.push(c));
  aToB.on('end', () => b.push(null));
  bToA.on('end', () => a.push(null));
  return [a, b];
}

const frame = (p: Packet) => {
  const body = encodePacket(p);
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
};

/**
 * One DiffCopy as the daemon makes it: headers in, the listing out, then FIN
 * without requesting content. Returns the grpc-status and the listing.
 */
async function diffCopy(client: http2.ClientHttp2Session, headers: Record<string, string | string[]>): Promise<{ status: string; message: string; listing: string[] }> {
  const req = client.request({ ':method': 'POST', ':path': '/moby.filesync.v1.FileSync/DiffCopy', 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const listing: string[] = [];
  let status = '';
  let message = '';
  let pending = Buffer.alloc(0);
  req.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 5 && pending.length >= 5 + pending.readUInt32BE(1)) {
      const packet = decodePacket(pending.subarray(5, 5 + pending.readUInt32BE(1)));
      pending = pending.subarray(5 + pending.readUInt32BE(1));
      if (packet.type === 'STAT' && packet.stat) {
        const s = packet.stat;
        listing.push(isDirectory(s.mode) ? `${s.path}/` : isSymlink(s.mode) ? `${s.path} -> ${s.linkname}` : s.path);
      } else if (packet.type === 'STAT') {
        req.write(frame({ type: 'FIN' }));
      } else if (packet.type === 'FIN') {
        req.end();
      }
    }
  });
  const onStatus = (h: http2.IncomingHttpHeaders) => {
    if (h['grpc-status'] !== undefined) status = String(h['grpc-status']);
    if (h['grpc-message'] !== undefined) message = decodeURIComponent(String(h['grpc-message']));
    // The call is over once its status is known (an early refusal comes before any FIN).
    if (status !== '' && !req.writableEnded) req.end();
  };
  req.on('response', onStatus);
  req.on('trailers', onStatus);
  await new Promise((r) => req.on('close', r));
  return { status, message, listing };
}

/** Go's url.QueryEscape, as daemons v0.12+ send header values with `<key>-encoded: 1`. */
const queryEscape = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

async function withSession(dirs: Record<string, SyncedDir>, run: (client: http2.ClientHttp2Session) => Promise<void>): Promise<void> {
  const [ours, daemon] = pair();
  const session = new Session({ attachables: [new FileSyncProvider(dirs)] });
  await session.open(async () => ours);
  const client = http2.connect('http://localhost', { createConnection: () => daemon as never });
  try {
    await run(client);
  } finally {
    client.destroy();
    await session.close();
  }
}

function context(name: string): string {
  const root = path.join(base, name);
  const files: Record<string, string> = {
    'Dockerfile': 'FROM x\n', '.dockerignore': 'node_modules\n!node_modules/keep\n*.log\n', 'app/main.ts': '', 'app/debug.log': '',
    'node_modules/dep/index.js': '', 'node_modules/keep/k.js': '', 'héllo wörld.txt': 'hi', 'secret.env': '',
  };
  for (const [rel, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), content);
  }
  fs.symlinkSync('../outside', path.join(root, 'up'));
  return root;
}

describe('FileSyncProvider serves the daemon\'s filtering headers', () => {
  test('no headers: everything; exclude-patterns as the Dockerfile frontend sends them', async () => {
    const root = context('plain');
    await withSession({ context: { dir: root } }, async (client) => {
      const all = await diffCopy(client, { 'dir-name': 'context' });
      expect(all.status).toBe('0');
      expect(all.listing).toContain('node_modules/dep/index.js');
      const excluded = await diffCopy(client, { 'dir-name': 'context', 'exclude-patterns': ['node_modules', '!node_modules/keep', '*.log', '**/*.log'] });
      expect(excluded.status).toBe('0');
      expect(excluded.listing).toEqual([
        '.dockerignore', 'Dockerfile', 'app/', 'app/main.ts', 'héllo wörld.txt', 'node_modules/', 'node_modules/keep/', 'node_modules/keep/k.js', 'secret.env', 'up -> ../outside',
      ]);
    });
  });
  test('query-escaped followpaths (non-ASCII, spaces) and include-patterns', async () => {
    const root = context('encoded');
    await withSession({ context: { dir: root } }, async (client) => {
      const follow = await diffCopy(client, { 'dir-name': 'context', followpaths: [queryEscape('héllo wörld.txt'), 'Dockerfile'], 'followpaths-encoded': '1' });
      expect(follow.listing).toEqual(['Dockerfile', 'héllo wörld.txt']);
      const include = await diffCopy(client, { 'dir-name': 'context', 'include-patterns': ['app'] });
      expect(include.listing).toEqual(['app/', 'app/debug.log', 'app/main.ts']);
    });
  });
  test('the directory\'s own filter applies too: both must pass', async () => {
    const root = context('client');
    const { patterns } = await readDockerignore(root);
    await withSession({ context: { dir: root, filter: { excludePatterns: [...patterns, 'secret.env'] } } }, async (client) => {
      const res = await diffCopy(client, { 'dir-name': 'context', 'exclude-patterns': ['app'] });
      expect(res.listing).toEqual(['.dockerignore', 'Dockerfile', 'héllo wörld.txt', 'node_modules/', 'node_modules/keep/', 'node_modules/keep/k.js', 'up -> ../outside']);
      // Asking for an excluded file by followpaths does not get it either.
      const follow = await diffCopy(client, { 'dir-name': 'context', followpaths: ['secret.env', 'node_modules/dep'] });
      expect(follow.listing).toEqual([]);
    });
  });
  test('malformed patterns are refused with INVALID_ARGUMENT; unknown names with NOT_FOUND', async () => {
    const root = context('bad');
    await withSession({ context: { dir: root } }, async (client) => {
      const bad = await diffCopy(client, { 'dir-name': 'context', 'exclude-patterns': ['['] });
      expect(bad.status).toBe('3');
      expect(bad.message).toContain('invalid excludepatterns');
      const unknown = await diffCopy(client, { 'dir-name': 'etc', 'exclude-patterns': ['x'] });
      expect(unknown.status).toBe('5');
    });
  });
  test('malformed client-side patterns are refused when the provider is made', () => {
    expect(() => new FileSyncProvider({ src: { dir: base, filter: { excludePatterns: ['a[', 'ok'] } } })).toThrow('FileSync dir "src": invalid excludepatterns');
  });
});
