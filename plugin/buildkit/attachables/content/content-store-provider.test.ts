import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { containerd } from '../../gen/types';
import { messageCodec } from '../../protocol/root';
import { ContentStoreProvider, storeIds } from './content-store-provider';
import { digestOf } from './digest';
import { OciLayoutStore } from './oci-layout-store';

type WriteReq = containerd.services.content.v1.WriteContentRequest;
type WriteRes = containerd.services.content.v1.WriteContentResponse;

const pkg = 'containerd.services.content.v1';
/** The daemon's side of the Content service: a grpc-js client over the wire messages. */
function clientMethod(name: string, request: string, response: string, requestStream: boolean, responseStream: boolean) {
  const req = messageCodec<object>(request.includes('.') ? request : `${pkg}.${request}`);
  const res = messageCodec<object>(response.includes('.') ? response : `${pkg}.${response}`);
  return {
    path: `/${pkg}.Content/${name}`, requestStream, responseStream,
    requestSerialize: req.serialize, requestDeserialize: req.deserialize,
    responseSerialize: res.serialize, responseDeserialize: res.deserialize,
  };
}
const ContentClient = grpc.makeGenericClientConstructor({
  Info: clientMethod('Info', 'InfoRequest', 'InfoResponse', false, false),
  Update: clientMethod('Update', 'UpdateRequest', 'UpdateResponse', false, false),
  List: clientMethod('List', 'ListContentRequest', 'ListContentResponse', false, true),
  Delete: clientMethod('Delete', 'DeleteContentRequest', 'google.protobuf.Empty', false, false),
  Read: clientMethod('Read', 'ReadContentRequest', 'ReadContentResponse', false, true),
  Status: clientMethod('Status', 'StatusRequest', 'StatusResponse', false, false),
  ListStatuses: clientMethod('ListStatuses', 'ListStatusesRequest', 'ListStatusesResponse', false, false),
  Write: clientMethod('Write', 'WriteContentRequest', 'WriteContentResponse', true, true),
  Abort: clientMethod('Abort', 'AbortRequest', 'google.protobuf.Empty', false, false),
}, 'Content');

let tmp: string;
let server: grpc.Server;
let client: grpc.Client & Record<string, (...args: unknown[]) => unknown>;
let cacheDir: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-provider-'));
  cacheDir = path.join(tmp, 'cache');
  const provider = new ContentStoreProvider(
    { [storeIds.localCache(cacheDir)]: cacheDir, [storeIds.ociLayout('layout')]: new OciLayoutStore(path.join(tmp, 'layout')) },
    { readChunkBytes: 1 << 20 },
  );
  server = new grpc.Server();
  provider.register({ addService: (d, i) => server.addService(d, i) });
  const socket = path.join(tmp, 'content.sock');
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socket}`, grpc.ServerCredentials.createInsecure(), (e) => (e ? reject(e) : resolve())));
  client = new ContentClient(`unix://${socket}`, grpc.credentials.createInsecure()) as never;
});
afterAll(() => {
  client.close();
  server.forceShutdown();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const meta = (id: string) => {
  const m = new grpc.Metadata();
  m.set('buildkit-attachable-store-id', id);
  return m;
};
const cache = () => meta(storeIds.localCache(cacheDir));

function unary<T>(method: string, request: object, metadata = cache()): Promise<T> {
  return new Promise((resolve, reject) => (client[method] as Function).call(client, request, metadata, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}
function serverStream<T>(method: string, request: object, metadata = cache()): Promise<T[]> {
  const call = (client[method] as Function).call(client, request, metadata) as grpc.ClientReadableStream<T>;
  const out: T[] = [];
  return new Promise((resolve, reject) => {
    call.on('data', (m: T) => out.push(m));
    call.on('error', reject);
    call.on('end', () => resolve(out));
  });
}
/** A Write stream driven message by message, as the daemon's writer does. */
function writeStream(metadata = cache()) {
  const call = (client.Write as Function).call(client, metadata) as grpc.ClientDuplexStream<WriteReq, WriteRes>;
  const responses: WriteRes[] = [];
  let failure: Error | undefined;
  let wake = () => {};
  call.on('data', (r: WriteRes) => { responses.push(r); wake(); });
  call.on('error', (e: Error) => { failure = e; wake(); });
  const ended = new Promise<void>((resolve) => call.on('status', () => resolve()));
  const next = async (): Promise<WriteRes> => {
    while (!responses.length && !failure) await new Promise<void>((r) => (wake = r));
    if (responses.length) return responses.shift()!;
    throw failure;
  };
  return {
    async send(m: WriteReq): Promise<WriteRes> {
      call.write(m);
      return next();
    },
    /** Half-close and wait for the call's final status. */
    async end(): Promise<void> {
      call.end();
      await ended;
    },
  };
}
const code = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return { code: (err as grpc.ServiceError).code, details: (err as grpc.ServiceError).details };
  }
  throw new Error('expected a failure');
};

describe('ContentStoreProvider over gRPC', () => {
  test('calls without a store ID, or with an unknown one, are refused', async () => {
    expect(await code(unary('Info', { digest: digestOf('x') }, new grpc.Metadata()))).toMatchObject({ code: grpc.status.INVALID_ARGUMENT });
    expect(await code(unary('Info', { digest: digestOf('x') }, meta('local:/etc')))).toEqual({ code: grpc.status.NOT_FOUND, details: 'unknown store local:/etc' });
    expect(await code(serverStream('Read', { digest: digestOf('x') }, meta('export')))).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  test('the daemon writer flow: stat, writes at offsets, commit with size and digest; then read back', async () => {
    const data = crypto.randomBytes(3 * 1024 * 1024 + 17);
    const digest = digestOf(data);
    const w = writeStream();
    const stat = await w.send({ action: 'STAT', ref: 'layer-1', total: data.length, expected: digest });
    expect(stat.action ?? 'STAT').toBe('STAT'); // 0 is not on the wire in proto3
    expect(Number(stat.offset ?? 0)).toBe(0);
    let offset = 0;
    for (; offset < data.length - 1000; offset += 1 << 20) {
      const r = await w.send({ action: 'WRITE', offset, data: data.subarray(offset, Math.min(offset + (1 << 20), data.length - 1000)) });
      expect(Number(r.offset)).toBe(Math.min(offset + (1 << 20), data.length - 1000));
    }
    const committed = await w.send({ action: 'COMMIT', offset: data.length - 1000, total: data.length, expected: digest, data: data.subarray(data.length - 1000) });
    expect(committed).toMatchObject({ action: 'COMMIT', digest });
    expect(Number(committed.offset)).toBe(data.length);

    const info = await unary<containerd.services.content.v1.InfoResponse>('Info', { digest });
    expect(info.info).toMatchObject({ digest, size: String(data.length) });
    const chunks = await serverStream<containerd.services.content.v1.ReadContentResponse>('Read', { digest, offset: 10, size: 2 * 1024 * 1024 });
    expect(chunks.map((c) => Number(c.offset ?? 0))).toEqual([10, 10 + (1 << 20)]);
    expect(Buffer.concat(chunks.map((c) => Buffer.from(c.data!))).equals(data.subarray(10, 10 + 2 * 1024 * 1024))).toBe(true);
    const list = await serverStream<containerd.services.content.v1.ListContentResponse>('List', {});
    expect(list.flatMap((l) => l.info ?? []).map((i) => i.digest)).toContain(digest);
    expect(await code(serverStream('Read', { digest, offset: data.length + 1 }))).toMatchObject({ code: grpc.status.OUT_OF_RANGE });
    await unary('Delete', { digest });
    expect(await code(unary('Info', { digest }))).toMatchObject({ code: grpc.status.NOT_FOUND });
  });

  test('an interrupted write resumes in a new stream; Status and ListStatuses report it', async () => {
    const data = Buffer.from('resumable content over two streams');
    const first = writeStream();
    await first.send({ action: 'WRITE', ref: 'resume', offset: 0, data: data.subarray(0, 10) });
    await first.end();
    const status = await unary<containerd.services.content.v1.StatusResponse>('Status', { ref: 'resume' });
    expect(status.status).toMatchObject({ ref: 'resume', offset: '10' });
    const all = await unary<containerd.services.content.v1.ListStatusesResponse>('ListStatuses', { filters: ['ref==resume'] });
    expect(all.statuses?.map((s) => s.ref)).toEqual(['resume']);

    const second = writeStream();
    const stat = await second.send({ action: 'STAT', ref: 'resume' });
    expect(Number(stat.offset)).toBe(10);
    expect(stat.digest).toBe(digestOf(data.subarray(0, 10)));
    const done = await second.send({ action: 'COMMIT', offset: 10, data: data.subarray(10), expected: digestOf(data), total: data.length });
    expect(done.digest).toBe(digestOf(data));
    expect(fs.readFileSync(path.join(cacheDir, 'blobs', 'sha256', digestOf(data).slice(7)), 'utf8')).toBe(data.toString());
  });

  test('a second stream for a ref that is being written is refused as UNAVAILABLE', async () => {
    const holder = writeStream();
    await holder.send({ action: 'STAT', ref: 'contended' });
    const other = writeStream();
    expect(await code(other.send({ action: 'STAT', ref: 'contended' }))).toMatchObject({ code: grpc.status.UNAVAILABLE });
    await holder.end();
    const later = writeStream();
    expect(Number((await later.send({ action: 'STAT', ref: 'contended' })).offset ?? 0)).toBe(0);
    await later.end();
  });

  test('wrong offsets, digest mismatches and existing content fail with containerd\'s codes', async () => {
    const w = writeStream();
    await w.send({ action: 'WRITE', ref: 'offsets', offset: 0, data: Buffer.from('abc') });
    expect(await code(w.send({ action: 'WRITE', offset: 7, data: Buffer.from('x') }))).toMatchObject({ code: grpc.status.OUT_OF_RANGE, details: 'write @7 must occur at current offset 3' });

    const m = writeStream();
    const mismatch = await code(m.send({ action: 'COMMIT', ref: 'mismatch', data: Buffer.from('abc'), expected: digestOf('abd') }));
    expect(mismatch.code).toBe(grpc.status.FAILED_PRECONDITION);
    expect(mismatch.details).toContain('unexpected commit digest');

    const present = await new OciLayoutStore(cacheDir).writeBlob(Buffer.from('present'));
    const e = writeStream();
    expect(await code(e.send({ action: 'STAT', ref: 'exists', expected: present.digest }))).toMatchObject({ code: grpc.status.ALREADY_EXISTS });
  });

  test('Abort drops an unfinished write; Update sets labels', async () => {
    const w = writeStream();
    await w.send({ action: 'WRITE', ref: 'abort-me', offset: 0, data: Buffer.from('zzz') });
    w.end();
    await unary('Abort', { ref: 'abort-me' });
    expect(await code(unary('Status', { ref: 'abort-me' }))).toMatchObject({ code: grpc.status.NOT_FOUND });

    const { digest } = await new OciLayoutStore(cacheDir).writeBlob(Buffer.from('labelled'));
    // Labels live in the provider's own store object, so set them through the service and read them back through it.
    const updated = await unary<containerd.services.content.v1.UpdateResponse>('Update', { info: { digest, labels: { a: '1' } }, updateMask: { paths: ['labels.a'] } });
    expect(updated.info?.labels).toEqual({ a: '1' });
    expect((await unary<containerd.services.content.v1.InfoResponse>('Info', { digest })).info?.labels).toEqual({ a: '1' });
  });
});
