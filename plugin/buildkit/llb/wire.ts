import { encodeDeterministic } from '../protocol/deterministic-encode';
import { messageType } from '../protocol/root';

/** Encode a `pb.Op` (plain object, gen/types.ts shape) with Go-identical deterministic bytes. */
export function encodeOp(op: Record<string, unknown>): Uint8Array {
  return encodeDeterministic(messageType('pb.Op'), op);
}

