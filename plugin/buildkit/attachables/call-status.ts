import type * as grpc from '@grpc/grpc-js';

/** gRPC status codes attachables answer with (wire facts). */
export const Status = { NOT_FOUND: 5, ALREADY_EXISTS: 6, PERMISSION_DENIED: 7, INTERNAL: 13, UNAVAILABLE: 14, UNIMPLEMENTED: 12, INVALID_ARGUMENT: 3 } as const;

/** End a streaming server call with a non-OK status. */
export function failStream(call: grpc.ServerDuplexStream<unknown, unknown>, code: number, details: string): void {
  // grpc-js turns an 'error' event on a server stream into the call's final status.
  call.emit('error', { code, details });
}

/** A unary handler's error value with a status code. */
export function statusError(code: number, details: string): grpc.ServiceError {
  return Object.assign(new Error(details), { code, details, metadata: undefined as unknown as grpc.Metadata });
}

/**
 * All values of a request header. Repeated header fields reach grpc-js
 * joined with ", " by the HTTP/2 layer, so they are split again here; when the
 * daemon (v0.12+) marks a key `<key>-encoded: 1`, every value was
 * query-escaped (so contains no raw ", ") and is decoded. Without the marker, a
 * value that itself contains ", " cannot be told apart from two values.
 */
export function headerValues(metadata: grpc.Metadata, key: string): string[] {
  const encoded = metadata.get(`${key}-encoded`).some((v) => String(v) === '1');
  const values = metadata.get(key).flatMap((v) => String(v).split(', ')).filter((v) => v !== '');
  return encoded ? values.map((v) => decodeURIComponent(v.replace(/\+/g, ' '))) : values;
}

/** Raw-bytes method descriptor for a grpc-js service definition (decoding is the handler's job). */
export function rawMethod(path: string, requestStream: boolean, responseStream: boolean): grpc.MethodDefinition<Buffer, Buffer> {
  const identity = (b: Buffer) => b;
  return { path, requestStream, responseStream, requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity };
}
