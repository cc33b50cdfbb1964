/**
 * Codec for `BytesMessage { bytes data = 1; }`, the envelope of the session
 * tunnel, FileSend payloads and SSH forwarding. Hand-written because it sits
 * on the hottest path (every byte of every transfer) and has one field:
 * skipping reflection avoids a decode step and a copy per chunk.
 */

/** Wrap `data` as an encoded BytesMessage. */
export function encodeBytesMessage(data: Uint8Array): Buffer {
  if (data.length === 0) return Buffer.alloc(0);
  const header = Buffer.allocUnsafe(11);
  header[0] = 0x0a; // field 1, wire type 2
  let n = data.length;
  let i = 1;
  while (n > 0x7f) {
    header[i++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  header[i++] = n;
  return Buffer.concat([header.subarray(0, i), data]);
}

/** Extract `data` from an encoded BytesMessage (unknown fields are skipped). */
export function decodeBytesMessage(buf: Buffer): Buffer {
  let pos = 0;
  let data: Buffer = Buffer.alloc(0);
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (pos >= buf.length) throw new Error('truncated BytesMessage');
      const b = buf[pos++]!;
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    if (wire === 2) {
      const len = varint();
      if (pos + len > buf.length) throw new Error('truncated BytesMessage');
      if (tag >>> 3 === 1) data = buf.subarray(pos, pos + len);
      pos += len;
    } else if (wire === 0) varint();
    else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else throw new Error(`unsupported wire type ${wire} in BytesMessage`);
  }
  return data;
}
