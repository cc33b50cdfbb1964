import { describe, expect, test } from 'bun:test';
import { EventEmitter } from 'node:events';
import http2 from 'node:http2';
import { Duplex, PassThrough } from 'node:stream';
import { FileSyncProvider } from '../attachables/filesync/file-sync-provider';
import { Session } from './session';
import { TunnelDuplex } from './tunnel-duplex';

/** Two connected in-process duplexes; bytes crossing are re-cut into pieces of `sizes` (cycled), to split and coalesce frames. */
function rechunkingPair(sizes: number[]): [Duplex, Duplex] {
  const aToB = new PassThrough();
  const bToA = new PassThrough();
  let turn = 0;
  const recut = (from: PassThrough, push: (b: Buffer) => void) => {
    let pending = Buffer.alloc(0);
    from.on('data', (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      // Hold bytes back and release them in odd sizes, sometimes several frames at once.
      while (pending.length > 0) {
        const n = Math.min(pending.length, sizes[turn++ % sizes.length]!);
        push(pending.subarray(0, n));
        pending = pending.subarray(n);
      }
    });
  };
  const a = new Duplex({ read() {}, write(c, _e, cb) { aToB.write(c, cb); }, final(cb) { aToB.end(); cb(); } });
  const b = new Duplex({ read() {}, write(c, _e, cb) { bToA.write(c, cb); }, final(cb) { bToA.end(); cb(); } });
  recut(aToB, (buf) => b.push(buf));
  recut(bToA, (buf) => a.push(buf));
  aToB.on('end', () => b.push(null));
  bToA.on('end', () => a.push(null));
  return [a, b];
}

/** One gRPC call by hand over an HTTP/2 client session: returns grpc-status and the response payload. */
async function grpcCall(client: http2.ClientHttp2Session, path: string, body: Buffer, headers: Record<string, string> = {}) {
  const req = client.request({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers', ...headers });
  const frame = Buffer.alloc(5 + body.length);
  frame.writeUInt32BE(body.length, 1);
  body.copy(frame, 5);
  req.end(frame);
  const chunks: Buffer[] = [];
  let status = '';
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('response', (h) => { if (h['grpc-status'] !== undefined) status = String(h['grpc-status']); });
  req.on('trailers', (t) => { if (t['grpc-status'] !== undefined) status = String(t['grpc-status']); });
  await new Promise((r) => req.on('close', r));
  const data = Buffer.concat(chunks);
  return { status, payload: data.length >= 5 ? data.subarray(5, 5 + data.readUInt32BE(1)) : Buffer.alloc(0) };
}

describe('session served over an in-process duplex', () => {
  for (const [label, sizes] of [['split into tiny pieces', [1, 3, 7, 2]], ['coalesced', [1 << 20]]] as const) {
    test(`health, unimplemented and refused directories (${label})`, async () => {
      const [ours, daemon] = rechunkingPair([...sizes]);
      const session = new Session({ attachables: [new FileSyncProvider({})] });
      await session.open(async () => ours);
      const client = http2.connect('http://localhost', { createConnection: () => daemon as never });
      try {
        const health = await grpcCall(client, '/grpc.health.v1.Health/Check', Buffer.alloc(0));
        expect(health.status).toBe('0');
        expect([...health.payload]).toEqual([0x08, 0x01]); // status: SERVING
        const unknown = await grpcCall(client, '/moby.buildkit.secrets.v1.Secrets/GetSecret', Buffer.alloc(0));
        expect(unknown.status).toBe('12'); // UNIMPLEMENTED: the daemon reads it as "not provided"
        const refused = await grpcCall(client, '/moby.filesync.v1.FileSync/DiffCopy', Buffer.alloc(0), { 'dir-name': 'etc' });
        expect(refused.status).toBe('5'); // NOT_FOUND: only configured directories are served
      } finally {
        client.destroy();
        await session.close();
      }
      expect(session.isOpen).toBe(false);
    });
  }
});

/** The parts of a grpc-js client call the tunnel uses. */
class FakeCall extends EventEmitter {
  written: Buffer[] = [];
  paused = false;
  ended = false;
  cancelled = false;
  write(b: Buffer) { this.written.push(Buffer.from(b)); return true; }
  end() { this.ended = true; }
  pause() { this.paused = true; }
  resume() { this.paused = false; }
  cancel() { this.cancelled = true; }
}

describe('TunnelDuplex', () => {
  test('bytes written come out as messages of at most 1 MiB, in order', async () => {
    const call = new FakeCall();
    const tunnel = new TunnelDuplex(call as never);
    const payload = Buffer.alloc(2.5 * 1024 * 1024, 7);
    payload.write('start', 0);
    await new Promise<void>((r) => tunnel.write(payload, () => r()));
    expect(call.written.map((b) => b.length)).toEqual([1 << 20, 1 << 20, payload.length - 2 * (1 << 20)]);
    expect(Buffer.concat(call.written).equals(payload)).toBe(true);
  });
  test('incoming messages form one byte stream; end and close propagate', async () => {
    const call = new FakeCall();
    const tunnel = new TunnelDuplex(call as never);
    const received: Buffer[] = [];
    tunnel.on('data', (c: Buffer) => received.push(c));
    const ended = new Promise((r) => tunnel.on('end', r));
    for (const part of ['he', 'l', 'lo wor', 'ld']) call.emit('data', Buffer.from(part));
    call.emit('end');
    await ended;
    expect(Buffer.concat(received).toString()).toBe('hello world');
    tunnel.end();
    await new Promise((r) => setImmediate(r));
    expect(call.ended).toBe(true);
    call.emit('close');
    expect(tunnel.destroyed).toBe(true);
  });
});
