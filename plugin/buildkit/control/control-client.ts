import * as grpc from '@grpc/grpc-js';
import { BuildkitError, GrpcStatus } from '../errors';
import type { GrpcChannel } from '../transport/channel';
import { serverStreamCall, unaryCall, type CallOptions } from './rpc';
import type { DaemonVersion, SolveRequestInit, SolveResponse, SolveStatus, UsageRecord, WorkerInfo } from './types';
import {
  codecs, fromWireInfo, fromWireSolveResponse, fromWireStatus, fromWireUsage, fromWireWorkers, toWireSolveRequest,
} from './wire';

const service = '/moby.buildkit.v1.Control';

/** The daemon's `moby.buildkit.v1.Control` API, with plain-object requests and results. */
export class ControlClient {
  constructor(private readonly channel: GrpcChannel) {}

  /** Where this client is connected, for messages. */
  get address(): string {
    return this.channel.address.display;
  }

  /** The daemon's workers (every daemon generation answers this). */
  async listWorkers(options: CallOptions = {}): Promise<WorkerInfo[]> {
    const res = await unaryCall(this.channel.client, `${service}/ListWorkers`, codecs.listWorkersRequest, codecs.listWorkersResponse, {}, `ListWorkers on ${this.address}`, options);
    return fromWireWorkers(res);
  }

  /** The daemon's version; undefined on daemons without `Info` (before v0.11). */
  async info(options: CallOptions = {}): Promise<DaemonVersion | undefined> {
    try {
      const res = await unaryCall(this.channel.client, `${service}/Info`, codecs.infoRequest, codecs.infoResponse, {}, `Info on ${this.address}`, options);
      return fromWireInfo(res);
    } catch (err) {
      if (err instanceof BuildkitError && err.grpcCode === GrpcStatus.UNIMPLEMENTED) return undefined;
      throw err;
    }
  }

  /** Cache records held by the daemon. */
  async diskUsage(options: CallOptions = {}): Promise<UsageRecord[]> {
    const res = await unaryCall(this.channel.client, `${service}/DiskUsage`, codecs.diskUsageRequest, codecs.diskUsageResponse, {}, `DiskUsage on ${this.address}`, options);
    return fromWireUsage(res);
  }

  /**
   * Remove cache records (`all` includes records in use by nothing but
   * still referenced as cache). Resolves with how many records were removed.
   */
  async prune(options: CallOptions & { all?: boolean; filters?: string[] } = {}): Promise<number> {
    let removed = 0;
    const request = { all: options.all ?? false, filter: options.filters ?? [] };
    for await (const _ of serverStreamCall(this.channel.client, `${service}/Prune`, codecs.pruneRequest, codecs.usageRecord, request, `Prune on ${this.address}`, options)) removed++;
    return removed;
  }

  /** Run one solve; resolves when the build and its exports are done. Aborting cancels the build on the daemon. */
  async solve(request: SolveRequestInit, options: CallOptions = {}): Promise<SolveResponse> {
    const res = await unaryCall(this.channel.client, `${service}/Solve`, codecs.solveRequest, codecs.solveResponse, toWireSolveRequest(request), 'solve', options);
    return fromWireSolveResponse(res);
  }

  /** Progress of the build `ref`; ends when the build's progress is closed. */
  async *status(ref: string, options: CallOptions = {}): AsyncGenerator<SolveStatus> {
    for await (const res of serverStreamCall(this.channel.client, `${service}/Status`, codecs.statusRequest, codecs.statusResponse, { Ref: ref }, 'status', options)) {
      yield fromWireStatus(res);
    }
  }
}
