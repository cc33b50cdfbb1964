import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffCopy } from '../../testing/diff-copy-call';
import { withFileSyncSession as withSession } from '../../testing/file-sync-session';
import { FileSyncProvider } from './file-sync-provider';
import { readDockerignore } from './patterns/ignore-file';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-provider-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** Go's url.QueryEscape, as daemons v0.12+ send header values with `<key>-encoded: 1`. */
const queryEscape = (s: string) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

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
