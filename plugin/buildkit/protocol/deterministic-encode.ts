import protobuf from 'protobufjs';

/**
 * Encode a message with the byte layout of Go's
 * `proto.MarshalOptions{Deterministic: true}` (protobuf-go), which is what
 * BuildKit's LLB marshaller uses. Same graph → same bytes → same digests as
 * a Go client, in every run and runtime.
 *
 * protobufjs' own encoder is deterministic but not Go-identical, so this walks
 * the reflection descriptors instead:
 * - regular fields in field-number order, then the set member of each
 *   (non-synthetic) oneof, also in field-number order;
 * - scalars at their zero value omitted unless the field tracks presence
 *   (a oneof member or a proto3 `optional`);
 * - map entries sorted by key bytes, key and value always written;
 * - repeated scalars packed; sub-messages written iff present.
 */
export function encodeDeterministic(type: protobuf.Type, message: protobuf.Message | Record<string, unknown>): Uint8Array {
  const msg = message instanceof protobuf.Message ? message : type.fromObject(message);
  const writer = protobuf.Writer.create();
  writeMessage(type, msg as unknown as Record<string, unknown>, writer);
  return writer.finish();
}

function writeMessage(type: protobuf.Type, msg: Record<string, unknown>, w: protobuf.Writer): void {
  for (const field of fieldOrder(type)) {
    const oneof = field.partOf;
    if (oneof && !isSynthetic(oneof)) {
      if (msg[oneof.name] === field.name) writeField(field, msg[field.name], w, true);
      continue;
    }
    const hasPresence = oneof !== null && isSynthetic(oneof);
    if (hasPresence && !Object.prototype.hasOwnProperty.call(msg, field.name)) continue;
    writeField(field, msg[field.name], w, hasPresence);
  }
}

const orderCache = new WeakMap<protobuf.Type, protobuf.Field[]>();

/** Regular fields by number, then real-oneof members by number (protobuf-go's order). */
function fieldOrder(type: protobuf.Type): protobuf.Field[] {
  let order = orderCache.get(type);
  if (!order) {
    const byId = (a: protobuf.Field, b: protobuf.Field) => a.id - b.id;
    const fields = type.fieldsArray.map((f) => f.resolve());
    const inOneof = (f: protobuf.Field) => f.partOf !== null && !isSynthetic(f.partOf);
    order = [...fields.filter((f) => !inOneof(f)).sort(byId), ...fields.filter(inOneof).sort(byId)];
    orderCache.set(type, order);
  }
  return order;
}

function isSynthetic(oneof: protobuf.OneOf): boolean {
  // proto3 `optional` fields live in a synthetic oneof named `_<field>` with one member.
  return oneof.fieldsArray.length === 1 && oneof.name === `_${oneof.fieldsArray[0]!.name}`;
}

const wireTypes: Record<string, number> = {
  double: 1, float: 5, int32: 0, uint32: 0, sint32: 0, fixed32: 5, sfixed32: 5,
  int64: 0, uint64: 0, sint64: 0, fixed64: 1, sfixed64: 1, bool: 0, string: 2, bytes: 2,
};

function writeField(field: protobuf.Field, value: unknown, w: protobuf.Writer, hasPresence: boolean): void {
  if (value === undefined || value === null) return;
  if (field instanceof protobuf.MapField) return writeMap(field, value as Record<string, unknown>, w);
  if (field.repeated) {
    const values = value as unknown[];
    if (values.length === 0) return;
    if (isPackable(field)) {
      w.uint32((field.id << 3) | 2).fork();
      for (const v of values) writeScalar(field, v, w);
      w.ldelim();
    } else {
      for (const v of values) writeSingle(field, v, w);
    }
    return;
  }
  if (!hasPresence && !(field.resolvedType instanceof protobuf.Type) && isZero(value)) return;
  writeSingle(field, value, w);
}

function writeSingle(field: protobuf.Field, value: unknown, w: protobuf.Writer): void {
  if (field.resolvedType instanceof protobuf.Type) {
    w.uint32((field.id << 3) | 2).fork();
    writeMessage(field.resolvedType, value as Record<string, unknown>, w);
    w.ldelim();
    return;
  }
  w.uint32((field.id << 3) | wireType(field.type, field.resolvedType));
  writeScalar(field, value, w);
}

function writeMap(field: protobuf.MapField, map: Record<string, unknown>, w: protobuf.Writer): void {
  const keys = Object.keys(map).sort(compareKeys(field.keyType));
  const valueType = field.resolvedType;
  for (const key of keys) {
    w.uint32((field.id << 3) | 2).fork();
    w.uint32((1 << 3) | wireType(field.keyType, null));
    writeRaw(field.keyType, field.keyType === 'bool' ? key === 'true' : key, w);
    if (valueType instanceof protobuf.Type) {
      w.uint32((2 << 3) | 2).fork();
      writeMessage(valueType, map[key] as Record<string, unknown>, w);
      w.ldelim();
    } else {
      w.uint32((2 << 3) | wireType(field.type, valueType));
      writeRaw(valueType instanceof protobuf.Enum ? 'int32' : field.type, map[key], w);
    }
    w.ldelim();
  }
}

/** Go sorts string keys by bytes and integer keys by value. */
function compareKeys(keyType: string): (a: string, b: string) => number {
  if (keyType === 'string') return (a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b));
  if (keyType === 'bool') return (a, b) => (a === b ? 0 : a === 'false' ? -1 : 1);
  return (a, b) => {
    const x = BigInt(a);
    const y = BigInt(b);
    return x < y ? -1 : x > y ? 1 : 0;
  };
}

function isPackable(field: protobuf.Field): boolean {
  return field.resolvedType instanceof protobuf.Enum || (field.type in wireTypes && field.type !== 'string' && field.type !== 'bytes');
}

function wireType(type: string, resolved: protobuf.ReflectionObject | null): number {
  if (resolved instanceof protobuf.Enum) return 0;
  const wt = wireTypes[type];
  if (wt === undefined) throw new Error(`no wire type for ${type}`);
  return wt;
}

function writeScalar(field: protobuf.Field, value: unknown, w: protobuf.Writer): void {
  writeRaw(field.resolvedType instanceof protobuf.Enum ? 'int32' : field.type, value, w);
}

function writeRaw(type: string, value: unknown, w: protobuf.Writer): void {
  switch (type) {
    case 'double': w.double(value as number); break;
    case 'float': w.float(value as number); break;
    case 'int32': w.int32(value as number); break;
    case 'uint32': w.uint32(value as number); break;
    case 'sint32': w.sint32(value as number); break;
    case 'fixed32': w.fixed32(value as number); break;
    case 'sfixed32': w.sfixed32(value as number); break;
    case 'int64': w.int64(value as number); break;
    case 'uint64': w.uint64(value as number); break;
    case 'sint64': w.sint64(value as number); break;
    case 'fixed64': w.fixed64(value as number); break;
    case 'sfixed64': w.sfixed64(value as number); break;
    case 'bool': w.bool(value as boolean); break;
    case 'string': w.string(value as string); break;
    case 'bytes': w.bytes(value as Uint8Array); break;
    default: throw new Error(`unsupported scalar type ${type}`);
  }
}

function isZero(value: unknown): boolean {
  if (value === 0 || value === '' || value === false) return true;
  if (value instanceof Uint8Array) return value.length === 0;
  if (typeof value === 'object' && value !== null && 'low' in value && 'high' in value) {
    const long = value as { low: number; high: number };
    return long.low === 0 && long.high === 0;
  }
  return false;
}
