import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { diffCopy } from '../../testing/diff-copy-call';
import { withFileSyncSession } from '../../testing/file-sync-session';

// A refused DiffCopy must give the daemon its reason as an fsutil ERR packet
// before the status: a status alone races, inside BuildKit's receiver, with
// the cancellation grpc-go does when the stream ends (see refuse-diff-copy.ts).

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-refuse-'));
fs.writeFileSync(path.join(root, 'a.txt'), 'a\n');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('refused DiffCopy calls', () => {
  test('an unknown dir-name gets an ERR packet with the refusal, then NOT_FOUND with the same text, and nothing else', async () => {
    await withFileSyncSession({ context: { dir: root } }, async (client, provider) => {
      const r = await diffCopy(client, { 'dir-name': 'not-planned' });
      expect(r).toEqual({ status: '5', message: 'no access allowed to dir "not-planned"', listing: [], content: '', senderErrors: ['no access allowed to dir "not-planned"'] });
      expect(provider.counters.filesSent).toBe(0);
    });
  });

  test('malformed request patterns get an ERR packet too, then INVALID_ARGUMENT', async () => {
    await withFileSyncSession({ context: { dir: root } }, async (client) => {
      const r = await diffCopy(client, { 'dir-name': 'context', 'exclude-patterns': ['['] });
      expect(r.status).toBe('3');
      expect(r.listing).toEqual([]);
      expect(r.senderErrors).toHaveLength(1);
      expect(r.senderErrors[0]).toBe(r.message);
      expect(r.message).toContain('invalid excludepatterns');
    });
  });

  test('a served name sends no ERR packet', async () => {
    await withFileSyncSession({ context: { dir: root } }, async (client) => {
      const r = await diffCopy(client, { 'dir-name': 'context' });
      expect({ status: r.status, listing: r.listing, senderErrors: r.senderErrors }).toEqual({ status: '0', listing: ['a.txt'], senderErrors: [] });
    });
  });
});
