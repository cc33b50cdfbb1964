import { afterEach, beforeEach, describe, expect, test } from 'bun:test';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { digestOf } from './digest';
import { OciLayoutStore } from './oci-layout-store';

let root: string;
let store: OciLayoutStore;
beforeEach(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-store-'));
  store = new OciLayoutStore(root);
});
afterEach(() => fs.rmSync(root, { recursive: true, force: true }));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return (err as BuildkitError).code;
  }
  throw new Error('expected a failure');
}

const errorOf = (p: Promise<unknown>): Promise<BuildkitError> =>
  p.then(() => { throw new Error('expected a failure'); }, (e: BuildkitError) => e);

async function collect(gen: AsyncGenerator<{ offset: number; data: Buffer }>) {
  const chunks: Array<{ offset: number; length: number }> = [];
  const parts: Buffer[] = [];
  for await (const c of gen) {
    chunks.push({ offset: c.offset, length: c.data.length });
    parts.push(c.data);
  }
  return { chunks, data: Buffer.concat(parts) };
}

describe('OciLayoutStore', () => {
  test('write, commit, then the blob is an OCI layout file readable by digest', async () => {
    const data = Buffer.from('hello content store\n');
    const digest = digestOf(data);
    const writer = await store.writer('ref-1', { total: data.length, expected: digest });
    await writer.append(data.subarray(0, 5));
    await writer.append(data.subarray(5));
    expect(writer.digest()).toBe(digest);
    const info = await writer.commit();
    expect(info.digest).toBe(digest);
    expect(info.size).toBe(data.length);
    const file = path.join(root, 'blobs', 'sha256', digest.slice(7));
    expect(fs.readFileSync(file)).toEqual(data);
    expect(fs.statSync(file).mode & 0o777).toBe(0o444);
    expect(JSON.parse(fs.readFileSync(path.join(root, 'oci-layout'), 'utf8'))).toEqual({ imageLayoutVersion: '1.0.0' });
    expect(fs.readdirSync(path.join(root, 'ingest'))).toEqual([]);
    expect((await store.readAll(digest)).toString()).toBe(data.toString());
  });

  test('nothing is visible under blobs/ before commit', async () => {
    const writer = await store.writer('pending');
    await writer.append(Buffer.from('partial'));
    expect(await store.list()).toEqual([]);
    expect(await store.has(digestOf('partial'))).toBe(false);
    await writer.close();
  });

  test('read streams a range in chunks of at most 1 MiB with their offsets', async () => {
    const data = crypto.randomBytes(2.5 * 1024 * 1024);
    const { digest } = await store.writeBlob(data);
    const whole = await collect(store.read(digest));
    expect(whole.data.equals(data)).toBe(true);
    expect(whole.chunks.map((c) => c.offset)).toEqual([0, 1 << 20, 2 << 20]);
    expect(Math.max(...whole.chunks.map((c) => c.length))).toBeLessThanOrEqual(1 << 20);

    const part = await collect(store.read(digest, { offset: 1000, size: 5000, chunkSize: 2048 }));
    expect(part.data.equals(data.subarray(1000, 6000))).toBe(true);
    expect(part.chunks).toEqual([{ offset: 1000, length: 2048 }, { offset: 3048, length: 2048 }, { offset: 5096, length: 904 }]);

    const tail = await collect(store.read(digest, { offset: data.length - 10, size: 100 }));
    expect(tail.data.equals(data.subarray(data.length - 10))).toBe(true);
    expect((await collect(store.read(digest, { offset: data.length }))).data.length).toBe(0);
    expect(await codeOf(collect(store.read(digest, { offset: data.length + 1 })))).toBe('invalid-argument');
  });

  test('commit verifies the digest and size, and keeps the ingest on a mismatch', async () => {
    const writer = await store.writer('bad-digest', { expected: digestOf('something else') });
    await writer.append(Buffer.from('actual bytes'));
    const err = await errorOf(writer.commit());
    expect(err.code).toBe('failed-precondition');
    expect(err.message).toContain(`unexpected commit digest ${digestOf('actual bytes')}, expected ${digestOf('something else')}`);
    expect(await store.has(digestOf('actual bytes'))).toBe(false);
    expect((await store.status('bad-digest')).offset).toBe(12);

    const sized = await store.writer('bad-size', { total: 3 });
    await sized.append(Buffer.from('four'));
    const sizeErr = await errorOf(sized.commit());
    expect(sizeErr.code).toBe('failed-precondition');
    expect(sizeErr.message).toContain('unexpected commit size 4, expected 3');
    // The lock was released: the ref can be written again.
    const again = await store.writer('bad-size');
    expect(again.offset).toBe(4);
    await again.close();
  });

  test('a closed write resumes at its offset with the right running digest', async () => {
    const data = crypto.randomBytes(300_000);
    const first = await store.writer('resume-me', { total: data.length });
    await first.append(data.subarray(0, 123_456));
    await first.close();
    const status = await store.status('resume-me');
    expect(status).toMatchObject({ ref: 'resume-me', offset: 123_456, total: data.length, expected: '' });
    expect((await store.listStatuses()).map((s) => s.ref)).toEqual(['resume-me']);

    const second = await store.writer('resume-me', { expected: digestOf(data) });
    expect(second.offset).toBe(123_456);
    expect(second.digest()).toBe(digestOf(data.subarray(0, 123_456)));
    await second.append(data.subarray(123_456));
    const info = await second.commit();
    expect(info.digest).toBe(digestOf(data));
    expect(await codeOf(store.status('resume-me'))).toBe('not-found');
  });

  test('truncate restarts a write', async () => {
    const writer = await store.writer('restart');
    await writer.append(Buffer.from('wrong start'));
    await writer.truncate();
    await writer.append(Buffer.from('right'));
    expect((await writer.commit({ expected: digestOf('right') })).size).toBe(5);
  });

  test('a second writer of the same ref is refused while the first holds it', async () => {
    const first = await store.writer('busy');
    const err = await errorOf(store.writer('busy'));
    expect(err.code).toBe('unavailable');
    expect(err.message).toContain('ref busy locked');
    await first.close();
    const second = await store.writer('busy');
    await second.close();
  });

  test('a write whose expected digest is stored already fails with already-exists', async () => {
    const { digest } = await store.writeBlob(Buffer.from('dup'));
    expect(await codeOf(store.writer('dup-ref', { expected: digest }))).toBe('already-exists');
    // Two refs racing for the same content: the second commit finds the blob there.
    const a = await store.writer('race-a');
    const b = await store.writer('race-b');
    await a.append(Buffer.from('same'));
    await b.append(Buffer.from('same'));
    await a.commit();
    expect(await codeOf(b.commit())).toBe('already-exists');
    expect(await codeOf(store.status('race-b'))).toBe('not-found');
  });

  test('abort drops the ingest and stops an open writer', async () => {
    const writer = await store.writer('to-abort');
    await writer.append(Buffer.from('abc'));
    await store.abort('to-abort');
    expect(await codeOf(store.status('to-abort'))).toBe('not-found');
    expect(await codeOf(writer.append(Buffer.from('more')))).toBe('not-found');
    expect(await codeOf(store.abort('to-abort'))).toBe('not-found');
    const fresh = await store.writer('to-abort');
    expect(fresh.offset).toBe(0);
    await fresh.close();
  });

  test('info, list with filters, labels, delete', async () => {
    const a = await store.writeBlob(Buffer.from('a'));
    const b = await store.writeBlob(Buffer.from('bb'));
    expect((await store.info(b.digest)).size).toBe(2);
    expect((await store.list()).map((i) => i.digest).sort()).toEqual([a.digest, b.digest].sort());
    expect((await store.list([`digest==${a.digest}`])).map((i) => i.digest)).toEqual([a.digest]);
    expect((await store.list(['size==2'])).map((i) => i.digest)).toEqual([b.digest]);

    await store.update(a.digest, { 'org.example/role': 'config', other: 'x' });
    expect((await store.info(a.digest)).labels).toEqual({ 'org.example/role': 'config', other: 'x' });
    await store.update(a.digest, {}, ['labels.other']);
    expect((await store.info(a.digest)).labels).toEqual({ 'org.example/role': 'config' });
    expect((await store.list(['labels."org.example/role"==config'])).map((i) => i.digest)).toEqual([a.digest]);
    expect(await codeOf(store.update(a.digest, {}, ['size']))).toBe('invalid-argument');

    await store.delete(a.digest);
    expect(await codeOf(store.info(a.digest))).toBe('not-found');
    expect(await codeOf(store.delete(a.digest))).toBe('not-found');
    expect((await store.list()).map((i) => i.digest)).toEqual([b.digest]);
  });

  test('malformed digests are rejected before touching the disk', async () => {
    for (const bad of ['sha256:../../etc/passwd', 'sha256:ABC', 'md5:00', '']) {
      expect(await codeOf(store.info(bad))).toBe('invalid-argument');
    }
    expect(await codeOf(store.writer('x', { expected: 'sha256:nothex' }))).toBe('invalid-argument');
  });

  test('sha512 content is stored under blobs/sha512', async () => {
    const data = Buffer.from('other algorithm');
    const digest = digestOf(data, 'sha512');
    const writer = await store.writer('sha512', { expected: digest });
    await writer.append(data);
    expect((await writer.commit()).digest).toBe(digest);
    expect(fs.existsSync(path.join(root, 'blobs', 'sha512', digest.slice(7)))).toBe(true);
  });
});
