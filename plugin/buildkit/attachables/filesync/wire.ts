import { messageType, plainObjectOptions } from '../../protocol/root';
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

const packetType = messageType('fsutil.types.Packet');
const kindByNumber = Object.fromEntries(Object.entries(PacketType).map(([k, v]) => [v, k as PacketKind]));

/** Encode a packet for the DiffCopy stream. */
export function encodePacket(p: Packet): Buffer {
  const msg: Record<string, unknown> = { type: PacketType[p.type] };
  if (p.stat) {
    const s = p.stat;
    msg.stat = {
      path: s.path, mode: s.mode, uid: s.uid, gid: s.gid,
      size: s.size.toString(), modTime: s.modTimeNs.toString(), linkname: s.linkname,
      devmajor: String(s.devmajor), devminor: String(s.devminor),
    };
  }
  if (p.id !== undefined) msg.ID = p.id;
  if (p.data !== undefined) msg.data = p.data;
  return Buffer.from(packetType.encode(packetType.fromObject(msg)).finish());
}

/** Decode a packet from the DiffCopy stream. */
export function decodePacket(bytes: Buffer): Packet {
  const o = packetType.toObject(packetType.decode(bytes), { ...plainObjectOptions, enums: Number }) as {
    type?: number; stat?: Record<string, unknown>; ID?: number; data?: Uint8Array;
  };
  const type = kindByNumber[o.type ?? 0];
  if (!type) throw new Error(`unknown fsutil packet type ${o.type}`);
  const packet: Packet = { type };
  if (o.stat) {
    const s = o.stat;
    packet.stat = {
      path: String(s.path ?? ''), mode: Number(s.mode ?? 0), uid: Number(s.uid ?? 0), gid: Number(s.gid ?? 0),
      size: BigInt(String(s.size ?? 0)), modTimeNs: BigInt(String(s.modTime ?? 0)), linkname: String(s.linkname ?? ''),
      devmajor: Number(s.devmajor ?? 0), devminor: Number(s.devminor ?? 0),
    };
  }
  if (o.ID !== undefined) packet.id = o.ID;
  if (o.data !== undefined) packet.data = o.data;
  return packet;
}

/** The Stat of a walked entry. uid/gid are always 0, as Go clients send them (keeps COPY ownership and cache keys machine-independent). */
export function statOf(entry: TreeEntry): WireStat {
  return {
    path: entry.path, mode: entry.mode, uid: 0, gid: 0, size: entry.size, modTimeNs: entry.modTimeNs,
    linkname: entry.linkname, devmajor: entry.devmajor, devminor: entry.devminor,
  };
}
