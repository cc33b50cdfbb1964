/**
 * Test support: raw HTTP/2 frames, for tests that play a peer byte by byte
 * (flow control, window raises) where node:http2 would hide what is sent.
 */

/** The client connection preface (RFC 9113 §3.4). */
export const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

/** Frame type codes (RFC 9113 §6). */
export const H2 = { DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8 } as const;

/** One frame: 9-byte header (length, type, flags, stream id) and the payload. */
export function h2Frame(type: number, flags: number, stream: number, payload: Buffer | number[] = []): Buffer {
  const body = Buffer.from(payload);
  const h = Buffer.alloc(9);
  h.writeUIntBE(body.length, 0, 3);
  h[3] = type;
  h[4] = flags;
  h.writeUInt32BE(stream, 5);
  return Buffer.concat([h, body]);
}

/** A SETTINGS frame (not an ACK) with the given `[id, value]` pairs. */
export function h2Settings(...pairs: Array<[number, number]>): Buffer {
  const b = Buffer.alloc(6 * pairs.length);
  pairs.forEach(([id, v], i) => {
    b.writeUInt16BE(id, i * 6);
    b.writeUInt32BE(v, i * 6 + 2);
  });
  return h2Frame(H2.SETTINGS, 0, 0, b);
}

/** A WINDOW_UPDATE frame; stream 0 is the connection. */
export function h2WindowUpdate(stream: number, increment: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(increment);
  return h2Frame(H2.WINDOW_UPDATE, 0, stream, b);
}

/** HPACK "literal header field without indexing, new name", plain strings (every name and value must be < 127 bytes). */
export function h2HeaderBlock(fields: Array<[string, string]>): Buffer {
  return Buffer.concat(fields.flatMap(([k, v]) => [Buffer.from([0, k.length]), Buffer.from(k), Buffer.from([v.length]), Buffer.from(v)]));
}
