import * as grpc from '@grpc/grpc-js';
import { messageCodec } from '../protocol/root';
import type { Attachable, SessionServiceRegistry } from './attachable';

const request = messageCodec<object>('grpc.health.v1.HealthCheckRequest');
const response = messageCodec<{ status?: string }>('grpc.health.v1.HealthCheckResponse');
const serving = { status: 'SERVING' };

/**
 * `grpc.health.v1.Health`: the daemon calls Check every 1–5 s and drops the
 * session after one (≤ v0.10) or two failed checks. Every session serves it.
 */
export const healthAttachable: Attachable = {
  register(registry: SessionServiceRegistry) {
    const method = (name: string, responseStream: boolean) => ({
      path: `/grpc.health.v1.Health/${name}`,
      requestStream: false,
      responseStream,
      requestSerialize: request.serialize,
      requestDeserialize: request.deserialize,
      responseSerialize: response.serialize,
      responseDeserialize: response.deserialize,
    });
    registry.addService(
      { Check: method('Check', false), Watch: method('Watch', true) },
      {
        Check: (_call: grpc.ServerUnaryCall<object, object>, callback: grpc.sendUnaryData<object>) => callback(null, serving),
        Watch: (call: grpc.ServerWritableStream<object, object>) => {
          // Report SERVING once and keep the stream open until the daemon cancels it.
          call.write(serving);
        },
      },
    );
  },
};
