/**
 * fsutil packets on the DiffCopy stream, encoded and decoded by hand. Every
 * byte of every transfer passes here (one packet per entry, per 32 KiB of
 * content and per request), so the reflection codec's per-packet object
 * conversions and copies are avoided: STAT and small packets are written in
 * one pass into an exactly sized buffer, and DATA packets are built around
 * content read straight into their buffer (see {@link finishDataPacket}).
 * The output is the canonical proto3 encoding Go clients send (zero values
 * omitted, fields in number order); `wire.test.ts` checks it against the
 * reflection codec of `proto/fsutil/types.proto` both ways.
 */
import type { TreeEntry } from './walk-tree';

/** fsutil packet kinds (numbers are wire facts). */
export const PacketType = { STAT: 0, REQ: 1, DATA: 2, FIN: 3, ERR: 4 } as const;
export type PacketKind = keyof typeof PacketType;

/** fsutil `Stat`, as plain values. */
export interface WireStat {
  path: string;
  mode: number;
  uid: number;
  gid: number;
  size: bigint;
  modTimeNs: bigint;
  linkname: string;
  devmajor: number;
  devminor: number;
}

/** One fsutil packet. `stat` is absent on the end-of-listing STAT packet. */
export interface Packet {
  type: PacketKind;
  stat?: WireStat;
  id?: number;
  data?: Uint8Array;
}

const kindByNumber: Array<PacketKind | undefined> = [];
for (const [kind, n] of Object.entries(PacketType)) kindByNumber[n] = kind as PacketKind;

// Field tags (field number << 3 | wire type), from proto/fsutil/types.proto.
const tag = { type: 0x08, stat: 0x12, id: 0x18, data: 0x22 } as const;
const statTag = { path: 0x0a, mode: 0x10, uid: 0x18, gid: 0x20, size: 0x28, modTime: 0x30, linkname: 0x3a, devmajor: 0x40, devminor: 0x48 } as const;

const u64 = (v: bigint) => BigInt.asUintN(64, v);

function varint32Size(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}

/** Size of an int64 varint (negative values take 10 bytes, two's complement). */
function varint64Size(v: bigint): number {
  if (v >= 0n && v < 0x100000000n) return varint32Size(Number(v));
  let u = u64(v);
  let n = 1;
  while (u >= 0x80n) {
    u >>= 7n;
    n++;
  }
  return n;
}

function writeVarint32(buf: Buffer, pos: number, n: number): number {
  while (n >= 0x80) {
    buf[pos++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  buf[pos++] = n;
  return pos;
}

function writeVarint64(buf: Buffer, pos: number, v: bigint): number {
  if (v >= 0n && v < 0x100000000n) return writeVarint32(buf, pos, Number(v));
  // Split into 32-bit halves: number arithmetic is much cheaper than bigint per byte.
  const u = u64(v);
  let lo = Number(u & 0xffffffffn);
  let hi = Number(u >> 32n);
  while (hi > 0 || lo >= 0x80) {
    buf[pos++] = (lo & 0x7f) | 0x80;
    lo = ((lo >>> 7) | ((hi & 0x7f) << 25)) >>> 0;
    hi >>>= 7;
  }
  buf[pos++] = lo;
  return pos;
}

/** Write a one-byte field tag and a varint value. */
function writeField32(buf: Buffer, pos: number, fieldTag: number, n: number): number {
  buf[pos] = fieldTag;
  return writeVarint32(buf, pos + 1, n);
}

function writeField64(buf: Buffer, pos: number, fieldTag: number, v: bigint): number {
  buf[pos] = fieldTag;
  return writeVarint64(buf, pos + 1, v);
}

/** Encoded size of the fields of a Stat, with its two strings' UTF-8 lengths given. */
function statBodySize(s: WireStat, pathBytes: number, linkBytes: number): number {
  let n = 0;
  if (pathBytes) n += 1 + varint32Size(pathBytes) + pathBytes;
  if (s.mode) n += 1 + varint32Size(s.mode >>> 0);
  if (s.uid) n += 1 + varint32Size(s.uid >>> 0);
  if (s.gid) n += 1 + varint32Size(s.gid >>> 0);
  if (s.size) n += 1 + varint64Size(s.size);
  if (s.modTimeNs) n += 1 + varint64Size(s.modTimeNs);
  if (linkBytes) n += 1 + varint32Size(linkBytes) + linkBytes;
  if (s.devmajor) n += 1 + varint64Size(BigInt(s.devmajor));
  if (s.devminor) n += 1 + varint64Size(BigInt(s.devminor));
  return n;
}

function writeStatBody(buf: Buffer, pos: number, s: WireStat, pathBytes: number, linkBytes: number): number {
  if (pathBytes) {
    buf[pos++] = statTag.path;
    pos = writeVarint32(buf, pos, pathBytes);
    pos += buf.write(s.path, pos, pathBytes, 'utf8');
  }
  if (s.mode) pos = writeField32(buf, pos, statTag.mode, s.mode >>> 0);
  if (s.uid) pos = writeField32(buf, pos, statTag.uid, s.uid >>> 0);
  if (s.gid) pos = writeField32(buf, pos, statTag.gid, s.gid >>> 0);
  if (s.size) pos = writeField64(buf, pos, statTag.size, s.size);
  if (s.modTimeNs) pos = writeField64(buf, pos, statTag.modTime, s.modTimeNs);
  if (linkBytes) {
    buf[pos++] = statTag.linkname;
    pos = writeVarint32(buf, pos, linkBytes);
    pos += buf.write(s.linkname, pos, linkBytes, 'utf8');
  }
  if (s.devmajor) pos = writeField64(buf, pos, statTag.devmajor, BigInt(s.devmajor));
  if (s.devminor) pos = writeField64(buf, pos, statTag.devminor, BigInt(s.devminor));
  return pos;
}

/** Encode a packet for the DiffCopy stream. */
export function encodePacket(p: Packet): Buffer {
  const type = PacketType[p.type];
  const id = (p.id ?? 0) >>> 0;
  const data = p.data;
  let pathBytes = 0;
  let linkBytes = 0;
  let statBytes = 0;
  let size = 0;
  if (type) size += 1 + varint32Size(type);
  if (p.stat) {
    pathBytes = Buffer.byteLength(p.stat.path);
    linkBytes = p.stat.linkname ? Buffer.byteLength(p.stat.linkname) : 0;
    statBytes = statBodySize(p.stat, pathBytes, linkBytes);
    size += 1 + varint32Size(statBytes) + statBytes;
  }
  if (id) size += 1 + varint32Size(id);
  if (data?.length) size += 1 + varint32Size(data.length) + data.length;

  const buf = Buffer.allocUnsafe(size);
  let pos = 0;
  if (type) pos = writeField32(buf, pos, tag.type, type);
  if (p.stat) {
    buf[pos++] = tag.stat;
    pos = writeVarint32(buf, pos, statBytes);
    pos = writeStatBody(buf, pos, p.stat, pathBytes, linkBytes);
  }
  if (id) pos = writeField32(buf, pos, tag.id, id);
  if (data?.length) {
    buf[pos++] = tag.data;
    pos = writeVarint32(buf, pos, data.length);
    buf.set(data, pos);
  }
  return buf;
}

/** Bytes to leave free in front of DATA content for {@link finishDataPacket}. */
export const dataHeaderRoom = 16;

/**
 * Turn `buf`, whose content bytes sit at `[dataHeaderRoom, dataHeaderRoom +
 * length)`, into an encoded DATA packet for file `id`: the header is written
 * right before the content and a view of the packet is returned. Lets file
 * content be read straight into the packet's buffer instead of being copied
 * into one. `length` must be greater than 0 (the end-of-file DATA packet,
 * which has no content, comes from {@link encodePacket}).
 */
export function finishDataPacket(buf: Buffer, id: number, length: number): Buffer {
  id >>>= 0;
  // Type (2) + ID (≤ 6) + data tag and length (≤ 6) always fit in dataHeaderRoom.
  const headerBytes = 2 + (id ? 1 + varint32Size(id) : 0) + 1 + varint32Size(length);
  const start = dataHeaderRoom - headerBytes;
  let pos = writeField32(buf, start, tag.type, PacketType.DATA);
  if (id) pos = writeField32(buf, pos, tag.id, id);
  buf[pos++] = tag.data;
  writeVarint32(buf, pos, length);
  return buf.subarray(start, dataHeaderRoom + length);
}

/** A forward-only reader of protobuf wire format over one buffer. */
class WireReader {
  pos: number;

  constructor(
    readonly buf: Buffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  get done(): boolean {
    return this.pos >= this.end;
  }

  /** A varint of up to 32 significant bits (longer ones keep their low 32 bits, as protobuf's uint32 does). */
  uint32(): number {
    let result = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (this.pos >= this.end) throw new Error('truncated fsutil packet');
      const b = this.buf[this.pos++]!;
      if (shift < 32) result |= (b & 0x7f) << shift;
      if (b < 0x80) return result >>> 0;
    }
    throw new Error('malformed varint in fsutil packet');
  }

  /** A varint as a signed 64-bit value. */
  int64(): bigint {
    let lo = 0;
    let hi = 0;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) throw new Error('truncated fsutil packet');
      const b = this.buf[this.pos++]!;
      if (i < 4) lo |= (b & 0x7f) << (i * 7);
      else if (i === 4) {
        lo |= (b & 0x0f) << 28;
        hi |= (b & 0x7f) >> 4;
      } else hi |= (b & 0x7f) << (i * 7 - 32);
      if (b < 0x80) return BigInt.asIntN(64, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    }
    throw new Error('malformed varint in fsutil packet');
  }

  /** The bounds of a length-delimited field. */
  span(): [number, number] {
    const len = this.uint32();
    const start = this.pos;
    if (start + len > this.end) throw new Error('truncated fsutil packet');
    this.pos += len;
    return [start, this.pos];
  }

  skip(wireType: number): void {
    if (wireType === 0) this.int64();
    else if (wireType === 1) this.pos += 8;
    else if (wireType === 2) this.span();
    else if (wireType === 5) this.pos += 4;
    else throw new Error(`unsupported wire type ${wireType} in fsutil packet`);
    if (this.pos > this.end) throw new Error('truncated fsutil packet');
  }
}

function decodeStat(r: WireReader): WireStat {
  const s: WireStat = { path: '', mode: 0, uid: 0, gid: 0, size: 0n, modTimeNs: 0n, linkname: '', devmajor: 0, devminor: 0 };
  while (!r.done) {
    const key = r.uint32();
    switch (key) {
      case statTag.path: {
        const [a, b] = r.span();
        s.path = r.buf.toString('utf8', a, b);
        break;
      }
      case statTag.mode: s.mode = r.uint32(); break;
      case statTag.uid: s.uid = r.uint32(); break;
      case statTag.gid: s.gid = r.uint32(); break;
      case statTag.size: s.size = r.int64(); break;
      case statTag.modTime: s.modTimeNs = r.int64(); break;
      case statTag.linkname: {
        const [a, b] = r.span();
        s.linkname = r.buf.toString('utf8', a, b);
        break;
      }
      case statTag.devmajor: s.devmajor = Number(r.int64()); break;
      case statTag.devminor: s.devminor = Number(r.int64()); break;
      // xattrs (10) and fields of newer fsutil versions are not used.
      default: r.skip(key & 7);
    }
  }
  return s;
}

/** Decode a packet from the DiffCopy stream. `data` is a view into `bytes`, not a copy. */
export function decodePacket(bytes: Buffer): Packet {
  const r = new WireReader(bytes, 0, bytes.length);
  let type = 0;
  let stat: WireStat | undefined;
  let id: number | undefined;
  let data: Buffer | undefined;
  while (!r.done) {
    const key = r.uint32();
    switch (key) {
      case tag.type: type = r.uint32(); break;
      case tag.stat: {
        const [a, b] = r.span();
        stat = decodeStat(new WireReader(bytes, a, b));
        break;
      }
      case tag.id: id = r.uint32(); break;
      case tag.data: {
        const [a, b] = r.span();
        data = bytes.subarray(a, b);
        break;
      }
      default: r.skip(key & 7);
    }
  }
  const kind = kindByNumber[type];
  if (!kind) throw new Error(`unknown fsutil packet type ${type}`);
  const packet: Packet = { type: kind };
  if (stat) packet.stat = stat;
  if (id !== undefined) packet.id = id;
  if (data !== undefined) packet.data = data;
  return packet;
}

/** The Stat of a walked entry. uid/gid are always 0, as Go clients send them (keeps COPY ownership and cache keys machine-independent). */
export function statOf(entry: TreeEntry): WireStat {
  return {
    path: entry.path, mode: entry.mode, uid: 0, gid: 0, size: entry.size, modTimeNs: entry.modTimeNs,
    linkname: entry.linkname, devmajor: entry.devmajor, devminor: entry.devminor,
  };
}
