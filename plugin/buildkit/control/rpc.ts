import * as grpc from '@grpc/grpc-js';
import { BuildkitError } from '../errors';
import type { MessageCodec } from '../protocol/root';

/** Per-call options every RPC helper accepts. */
export interface CallOptions {
  signal?: AbortSignal;
  /** Deadline for the whole call, in milliseconds from now. */
  timeoutMs?: number;
  metadata?: grpc.Metadata;
}

/** One unary call with AbortSignal and deadline support; errors become BuildkitError. */
export function unaryCall<Req, Res>(
  client: grpc.Client,
  path: string,
  req: MessageCodec<Req>,
  res: MessageCodec<Res>,
  request: Req,
  what: string,
  options: CallOptions = {},
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    if (options.signal?.aborted) return reject(new BuildkitError('cancelled', `${what} was aborted`, { cause: options.signal.reason }));
    const callOptions: grpc.CallOptions = options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
    const call = client.makeUnaryRequest(path, req.serialize, res.deserialize, request, options.metadata ?? new grpc.Metadata(), callOptions, (err, value) => {
      options.signal?.removeEventListener('abort', onAbort);
      if (err) reject(BuildkitError.from(err, what));
      else resolve(value as Res);
    });
    const onAbort = () => call.cancel();
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A server-streaming call as an async iterable; breaking out of the loop cancels the call. */
export async function* serverStreamCall<Req, Res>(
  client: grpc.Client,
  path: string,
  req: MessageCodec<Req>,
  res: MessageCodec<Res>,
  request: Req,
  what: string,
  options: CallOptions = {},
): AsyncGenerator<Res> {
  if (options.signal?.aborted) throw new BuildkitError('cancelled', `${what} was aborted`, { cause: options.signal.reason });
  const callOptions: grpc.CallOptions = options.timeoutMs ? { deadline: Date.now() + options.timeoutMs } : {};
  const call = client.makeServerStreamRequest(path, req.serialize, res.deserialize, request, options.metadata ?? new grpc.Metadata(), callOptions);
  const onAbort = () => call.cancel();
  options.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    for await (const message of call as AsyncIterable<Res>) yield message;
  } catch (err) {
    throw BuildkitError.from(err, what);
  } finally {
    options.signal?.removeEventListener('abort', onAbort);
    call.cancel();
  }
}
