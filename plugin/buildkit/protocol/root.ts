import protobuf from 'protobufjs';
import { descriptor } from '../gen/descriptor';

/**
 * The protocol's reflection root, built once from the generated descriptor.
 * Only the codec layer (`protocol/`) and the `wire.ts` adapters use it; the
 * rest of the client sees plain domain objects.
 */
export const protocolRoot: protobuf.Root = protobuf.Root.fromJSON(descriptor as unknown as protobuf.INamespace);

const typeCache = new Map<string, protobuf.Type>();

/** Look up a message type by its full name, e.g. `moby.buildkit.v1.SolveRequest`. */
export function messageType(fullName: string): protobuf.Type {
  let type = typeCache.get(fullName);
  if (!type) {
    type = protocolRoot.lookupType(fullName);
    typeCache.set(fullName, type);
  }
  return type;
}

/** Options that turn decoded messages into the plain shapes of `gen/types.ts`. */
export const plainObjectOptions: protobuf.IConversionOptions = {
  longs: String,
  enums: String,
  defaults: false,
  arrays: true,
  objects: true,
};

/** A grpc-js (de)serializer pair for one message type, working on plain objects. */
export interface MessageCodec<T> {
  serialize(value: T): Buffer;
  deserialize(bytes: Buffer): T;
}

/** Build the codec of `fullName` (protobufjs' own encoder; ordering does not matter off the LLB path). */
export function messageCodec<T extends object>(fullName: string): MessageCodec<T> {
  const type = messageType(fullName);
  return {
    serialize: (value) => Buffer.from(type.encode(type.fromObject(value as Record<string, unknown>)).finish()),
    deserialize: (bytes) => type.toObject(type.decode(bytes), plainObjectOptions) as T,
  };
}
