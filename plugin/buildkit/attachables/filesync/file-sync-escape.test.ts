import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffCopy, everyFile } from '../../testing/diff-copy-call';
import { withFileSyncSession as withSession } from '../../testing/file-sync-session';

// A daemon that asks for more than it was given: unknown, `..` and absolute
// dir-names, followpaths and include patterns that climb out, symlinks that
// point out, and content requests for ids it was never offered. Played over
// an in-process session (the provider cannot tell it from a real daemon).

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-escape-')));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
const secret = 'OUTSIDE-SECRET-7f3a';
const root = path.join(base, 'planned');
const other = path.join(base, 'not planned');
for (const [rel, content] of Object.entries({ 'ok.txt': 'ok\n', 'sub/inner.txt': 'inner\n' })) {
  fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
  fs.writeFileSync(path.join(root, rel), content);
}
fs.mkdirSync(path.join(other, 'deep'), { recursive: true });
fs.writeFileSync(path.join(other, 'secret.txt'), secret);
fs.writeFileSync(path.join(other, 'deep/secret.txt'), secret);
fs.symlinkSync('../not planned', path.join(root, 'up'));
fs.symlinkSync(path.join(other, 'secret.txt'), path.join(root, 'abs-link'));
fs.symlinkSync('..', path.join(root, 'sub/parent'));

const everythingInside = ['abs-link -> ' + path.join(other, 'secret.txt'), 'ok.txt', 'sub/', 'sub/inner.txt', 'sub/parent -> ..', 'up -> ../not planned'];

describe('FileSync serves only the planned directories', () => {
  test('a dir-name that was not planned is refused, however it is spelled', async () => {
    await withSession({ 'ctx-planned': { dir: root } }, async (client, provider) => {
      for (const name of ['ctx-other', '../ctx-planned', 'ctx-planned/..', 'ctx-planned/../ctx-planned', '/ctx-planned', other, root, '..', '.', '', 'ctx-planned ', 'CTX-PLANNED']) {
        const r = await diffCopy(client, { 'dir-name': name }, everyFile);
        expect({ name, status: r.status, listing: r.listing, content: r.content }).toEqual({ name, status: '5', listing: [], content: '' });
        // (HTTP/2 may trim the header's surrounding blanks; refused either way.)
        expect(r.message).toStartWith('no access allowed to dir "');
      }
      // No header at all is no name either.
      expect((await diffCopy(client, {}, everyFile)).status).toBe('5');
      expect(provider.counters.filesSent).toBe(0);
      // The planned name itself works, and sends only what is inside (links as links).
      const ok = await diffCopy(client, { 'dir-name': 'ctx-planned' }, everyFile);
      expect(ok.status).toBe('0');
      expect(ok.listing).toEqual(everythingInside);
      expect(ok.content).toBe('ok\ninner\n');
      // Every name asked for is recorded, refused or served (what the run reports against its plan).
      expect(provider.requested.has('ctx-other')).toBe(true);
      expect(provider.requested.has('ctx-planned')).toBe(true);
    });
  });

  test('followpaths and include patterns that climb out, or name absolute paths, bring nothing from outside', async () => {
    await withSession({ 'ctx-planned': { dir: root } }, async (client) => {
      const attempts: Array<Record<string, string | string[]>> = [
        { followpaths: ['../not planned/secret.txt'] },
        { followpaths: [path.join(other, 'secret.txt')] },
        { followpaths: ['/../not planned/secret.txt', 'sub/../../not planned/deep/secret.txt'] },
        // Through the links: followed inside the root only, the outside target is never read.
        { followpaths: ['up/secret.txt', 'up/deep/secret.txt', 'abs-link', 'sub/parent/up/secret.txt'] },
        { 'include-patterns': ['../*', '../not planned', '../not planned/**'] },
        { 'include-patterns': [`${other}/**`, '/**', '**/secret.txt'] },
        { 'include-patterns': ['up/**', 'sub/parent/**'] },
      ];
      for (const headers of attempts) {
        const r = await diffCopy(client, { 'dir-name': 'ctx-planned', ...headers }, everyFile);
        expect(r.status, JSON.stringify(headers)).toBe('0');
        expect(r.content, JSON.stringify(headers)).not.toContain(secret);
        // Every listed path is relative, below the root, and a link is listed as a link.
        for (const entry of r.listing) {
          const p = entry.split(' -> ')[0]!.replace(/\/$/, '');
          expect(p.startsWith('/') || p === '..' || p.startsWith('../') || p.split('/').includes('..'), `${entry} (${JSON.stringify(headers)})`).toBe(false);
          expect(everythingInside.some((e) => e === entry || e.startsWith(`${p}/`)), `${entry} is inside`).toBe(true);
        }
      }
    });
  });

  test('content is served only for listed regular files: a request for a link, a directory or an unlisted id fails the call', async () => {
    await withSession({ 'ctx-planned': { dir: root } }, async (client) => {
      for (const pick of [(l: string[]) => [l.indexOf('up -> ../not planned')], (l: string[]) => [l.indexOf('sub/')], (l: string[]) => [l.length], () => [1_000_000]]) {
        const r = await diffCopy(client, { 'dir-name': 'ctx-planned' }, pick);
        expect(r.content).toBe('');
        expect(r.status).not.toBe('0');
        expect(r.message).toContain('requested invalid file id');
      }
    });
  });
});
