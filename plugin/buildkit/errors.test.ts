import { describe, expect, test } from 'bun:test';
import { BuildkitError, GrpcStatus } from './errors';

const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('BuildkitError.from, gRPC status errors', () => {
  test("grpc-js's timing breakdown of a passed deadline becomes what it means", () => {
    const err = BuildkitError.from(
      grpcError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded after 5.003s,name resolution: 0.009s,metadata filters: 0.001s,Waiting for LB pick'),
      'ListWorkers on tcp://127.0.0.1:1234',
    );
    expect(err.code).toBe('deadline-exceeded');
    expect(err.message).toBe('ListWorkers on tcp://127.0.0.1:1234: no answer within 5.0 s (deadline exceeded)');
  });

  test("a daemon's own deadline text is kept as it is", () => {
    expect(BuildkitError.from(grpcError(GrpcStatus.DEADLINE_EXCEEDED, 'context deadline exceeded')).message).toBe('context deadline exceeded');
    expect(BuildkitError.from(grpcError(GrpcStatus.UNAVAILABLE, 'Deadline exceeded after 1s')).message).toBe('Deadline exceeded after 1s');
  });
});
