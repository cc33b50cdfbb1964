import { encodePacket, type Packet } from '../attachables/filesync/wire';

/** Test support: a FileSync packet as one gRPC message (flag byte, 4-byte length, body), as a daemon writes it on a DiffCopy stream. */
export function packetMessage(p: Packet): Buffer {
  const body = encodePacket(p);
  const out = Buffer.alloc(5 + body.length);
  out.writeUInt32BE(body.length, 1);
  body.copy(out, 5);
  return out;
}
