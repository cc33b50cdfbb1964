import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { messageType, plainObjectOptions } from '../../protocol/root';
import { dataHeaderRoom, decodePacket, encodePacket, finishDataPacket, PacketType, type Packet, type WireStat } from './wire';

/** The reflection codec generated from proto/fsutil/types.proto: the reference the hand-written one must match. */
const reference = messageType('fsutil.types.Packet');

/** The packet as a protobufjs object holding only non-zero fields (so its encoding is the canonical one). */
function referenceObject(p: Packet): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  if (PacketType[p.type]) o.type = PacketType[p.type];
  if (p.stat) {
    const s = p.stat;
    const stat: Record<string, unknown> = {};
    if (s.path) stat.path = s.path;
    if (s.mode) stat.mode = s.mode;
    if (s.uid) stat.uid = s.uid;
    if (s.gid) stat.gid = s.gid;
    if (s.size) stat.size = s.size.toString();
    if (s.modTimeNs) stat.modTime = s.modTimeNs.toString();
    if (s.linkname) stat.linkname = s.linkname;
    if (s.devmajor) stat.devmajor = String(s.devmajor);
    if (s.devminor) stat.devminor = String(s.devminor);
    o.stat = stat;
  }
  if (p.id) o.ID = p.id;
  if (p.data?.length) o.data = p.data;
  return o;
}

const referenceEncode = (p: Packet) => Buffer.from(reference.encode(reference.fromObject(referenceObject(p))).finish());

/** What protobufjs decodes from our bytes, in our shape. */
function referenceDecode(bytes: Buffer): Packet {
  const o = reference.toObject(reference.decode(bytes), { ...plainObjectOptions, enums: Number }) as {
    type?: number; stat?: Record<string, unknown>; ID?: number; data?: Uint8Array;
  };
  const type = (Object.keys(PacketType) as Array<keyof typeof PacketType>).find((k) => PacketType[k] === (o.type ?? 0))!;
  const p: Packet = { type };
  if (o.stat) {
    const s = o.stat;
    p.stat = {
      path: String(s.path ?? ''), mode: Number(s.mode ?? 0), uid: Number(s.uid ?? 0), gid: Number(s.gid ?? 0),
      size: BigInt(String(s.size ?? 0)), modTimeNs: BigInt(String(s.modTime ?? 0)), linkname: String(s.linkname ?? ''),
      devmajor: Number(s.devmajor ?? 0), devminor: Number(s.devminor ?? 0),
    };
  }
  if (o.ID) p.id = o.ID;
  if (o.data?.length) p.data = Buffer.from(o.data);
  return p;
}

/** Drop what the wire cannot tell apart from absence (id 0, empty data), to compare decoded packets. */
function normalized(p: Packet): Packet {
  const out: Packet = { type: p.type };
  if (p.stat) out.stat = { ...p.stat };
  if (p.id) out.id = p.id;
  if (p.data?.length) out.data = Buffer.from(p.data);
  return out;
}

const stat = (over: Partial<WireStat>): WireStat => ({
  path: 'a', mode: 0o644, uid: 0, gid: 0, size: 0n, modTimeNs: 0n, linkname: '', devmajor: 0, devminor: 0, ...over,
});

const cases: Array<[string, Packet]> = [
  ['regular file', { type: 'STAT', stat: stat({ path: 'src/main.ts', size: 1234n, modTimeNs: 1_732_000_000_123_456_789n }) }],
  ['directory (mode with the sign bit of an int32)', { type: 'STAT', stat: stat({ path: 'dir', mode: 0x800001ed, modTimeNs: 1n }) }],
  ['symlink with non-ASCII names', { type: 'STAT', stat: stat({ path: 'héllo/😀 link', mode: (1 << 27) | 0o777, linkname: '../ｚ/target', size: 12n }) }],
  ['time before 1970 (negative int64)', { type: 'STAT', stat: stat({ modTimeNs: -1_000_000_000n }) }],
  ['size beyond 2^53 and all ids set', { type: 'STAT', stat: stat({ size: 2n ** 62n + 3n, uid: 4_294_967_295, gid: 1000, devmajor: 259, devminor: 1_048_575 }) }],
  ['end of listing', { type: 'STAT' }],
  ['request for id 0', { type: 'REQ', id: 0 }],
  ['request for a large id', { type: 'REQ', id: 4_000_000_000 }],
  ['content chunk', { type: 'DATA', id: 300, data: randomBytes(40_000) }],
  ['end of file', { type: 'DATA', id: 7 }],
  ['fin', { type: 'FIN' }],
  ['error text', { type: 'ERR', data: Buffer.from('failed: ünïcode') }],
];

function randomPacket(): Packet {
  const pick = <T>(xs: T[]) => xs[Math.floor(Math.random() * xs.length)]!;
  const big = () => BigInt.asIntN(64, BigInt(`0x${randomBytes(8).toString('hex')}`)) >> BigInt(Math.floor(Math.random() * 64));
  const type = pick(['STAT', 'REQ', 'DATA', 'FIN', 'ERR'] as const);
  const p: Packet = { type };
  if (type === 'STAT' && Math.random() < 0.9) {
    p.stat = stat({
      path: pick(['', 'a', 'dir/file.txt', 'ünï/😀', 'x'.repeat(300)]),
      mode: randomBytes(4).readUInt32LE() >>> Math.floor(Math.random() * 32),
      uid: Math.random() < 0.5 ? 0 : randomBytes(4).readUInt32LE(),
      gid: Math.random() < 0.5 ? 0 : randomBytes(2).readUInt16LE(),
      size: Math.random() < 0.3 ? 0n : big() < 0n ? -big() : big(),
      modTimeNs: Math.random() < 0.2 ? 0n : big(),
      linkname: pick(['', 'target', '../ünï']),
      devmajor: Math.random() < 0.7 ? 0 : randomBytes(2).readUInt16LE(),
      devminor: Math.random() < 0.7 ? 0 : randomBytes(3).readUIntLE(0, 3),
    });
    if (p.stat.size < 0n) p.stat.size = -p.stat.size;
  }
  if (type !== 'STAT' && Math.random() < 0.8) p.id = Math.random() < 0.5 ? Math.floor(Math.random() * 200) : randomBytes(4).readUInt32LE();
  if ((type === 'DATA' || type === 'ERR') && Math.random() < 0.8) p.data = randomBytes(Math.floor(Math.random() * 70_000));
  return p;
}

describe('fsutil packet codec', () => {
  for (const [name, packet] of cases) {
    test(`${name}: same bytes as the reference codec, and both decode each other`, () => {
      const ours = encodePacket(packet);
      expect(ours.equals(referenceEncode(packet))).toBe(true);
      expect(referenceDecode(ours)).toEqual(normalized(packet));
      expect(normalized(decodePacket(referenceEncode(packet)))).toEqual(normalized(packet));
    });
  }

  test('random packets round-trip through both codecs', () => {
    for (let i = 0; i < 2000; i++) {
      const packet = randomPacket();
      const ours = encodePacket(packet);
      expect(ours.equals(referenceEncode(packet))).toBe(true);
      expect(referenceDecode(ours)).toEqual(normalized(packet));
      expect(normalized(decodePacket(ours))).toEqual(normalized(packet));
    }
  });

  test('a DATA packet built around content read in place equals the encoded one', () => {
    for (const [id, length] of [[0, 1], [1, 127], [127, 128], [128, 16_384], [2 ** 21, 32_768], [4_294_967_295, 300_000]] as const) {
      const buf = Buffer.allocUnsafe(dataHeaderRoom + length);
      const content = randomBytes(length);
      content.copy(buf, dataHeaderRoom);
      expect(finishDataPacket(buf, id, length).equals(encodePacket({ type: 'DATA', id, data: content }))).toBe(true);
    }
  });

  test('decoding skips fields it does not use (xattrs, future fields) and takes data without copying', () => {
    const withExtras = Buffer.from(
      reference.encode(reference.fromObject({ type: 0, stat: { path: 'f', xattrs: { 'user.a': Buffer.from('v') } } })).finish(),
    );
    expect(decodePacket(withExtras).stat?.path).toBe('f');
    // Field 15 (varint) and field 16 (fixed64) appended: unknown to us, must be skipped.
    const unknown = Buffer.concat([encodePacket({ type: 'REQ', id: 9 }), Buffer.from([0x78, 0x96, 0x01, 0x81, 0x01, 1, 2, 3, 4, 5, 6, 7, 8])]);
    expect(decodePacket(unknown)).toEqual({ type: 'REQ', id: 9 });
    const bytes = encodePacket({ type: 'DATA', id: 1, data: Buffer.from('abc') });
    const data = decodePacket(bytes).data as Buffer;
    expect(data.buffer).toBe(bytes.buffer);
  });

  test('malformed input is an error, not a wrong packet', () => {
    expect(() => decodePacket(Buffer.from([0x08, 0x09]))).toThrow(/unknown fsutil packet type 9/);
    expect(() => decodePacket(Buffer.from([0x22, 0x05, 1, 2]))).toThrow(/truncated/);
    expect(() => decodePacket(Buffer.from([0x18]))).toThrow(/truncated/);
    expect(() => decodePacket(Buffer.from([0x0b]))).toThrow(/wire type 3/);
  });
});
