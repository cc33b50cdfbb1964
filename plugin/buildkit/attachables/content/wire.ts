import type * as grpc from '@grpc/grpc-js';
import type { containerd, google } from '../../gen/types';
import { messageCodec } from '../../protocol/root';
import type { ContentInfo, IngestStatus } from './content-types';


/** What one message of a Write stream asks for. */
export type WriteAction = 'stat' | 'write' | 'commit';

/** A Write stream message as plain values (absent numbers are 0, absent strings empty). */
export interface WriteRequest {
  action: WriteAction;
  ref: string;
  total: number;
  expected: string;
  offset: number;
  data: Buffer;
  labels?: Record<string, string>;
}

/** A Write stream response as plain values. */
export interface WriteResponse {
  action: WriteAction;
  offset: number;
  total: number;
  digest: string;
  startedAt?: Date;
  updatedAt?: Date;
}

/** Requests and responses of the Content service, by method, as plain values. */
export interface ContentMessages {
  Info: [{ digest: string }, ContentInfo];
  Update: [{ digest: string; labels: Record<string, string>; fieldPaths: string[] }, ContentInfo];
  List: [{ filters: string[] }, ContentInfo[]];
  Delete: [{ digest: string }, void];
  Read: [{ digest: string; offset: number; size: number }, { offset: number; data: Buffer }];
  Status: [{ ref: string }, IngestStatus];
  ListStatuses: [{ filters: string[] }, IngestStatus[]];
  Write: [WriteRequest, WriteResponse];
  Abort: [{ ref: string }, void];
}

const pkg = 'containerd.services.content.v1';

function timestamp(date: Date | undefined): google.protobuf.Timestamp | undefined {
  if (!date) return undefined;
  const ms = date.getTime();
  return { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1_000_000 };
}

function infoToWire(info: ContentInfo): containerd.services.content.v1.Info {
  return { digest: info.digest, size: info.size, createdAt: timestamp(info.createdAt), updatedAt: timestamp(info.updatedAt), labels: info.labels };
}

function statusToWire(s: IngestStatus): containerd.services.content.v1.Status {
  return { ref: s.ref, offset: s.offset, total: s.total, expected: s.expected, startedAt: timestamp(s.startedAt), updatedAt: timestamp(s.updatedAt) };
}

const actionByWire: Record<string, WriteAction> = { STAT: 'stat', WRITE: 'write', COMMIT: 'commit', 0: 'stat', 1: 'write', 2: 'commit' };
const num = (v: string | number | undefined) => Number(v ?? 0);

/** A method definition whose (de)serializers convert between plain values and the wire messages. */
function method<Req, Res, WireReq extends object, WireRes extends object>(
  name: keyof ContentMessages, requestStream: boolean, responseStream: boolean,
  wire: { request: string; response: string },
  fromWire: (m: WireReq) => Req,
  toWire: (v: Res) => WireRes,
): grpc.MethodDefinition<Req, Res> {
  const req = messageCodec<WireReq>(`${pkg}.${wire.request}`);
  const res = messageCodec<WireRes>(wire.response);
  return {
    path: `/${pkg}.Content/${name}`,
    requestStream,
    responseStream,
    requestSerialize: () => { throw new Error('the content service only serves'); },
    requestDeserialize: (bytes) => fromWire(req.deserialize(bytes)),
    responseSerialize: (value) => res.serialize(toWire(value)),
    responseDeserialize: () => { throw new Error('the content service only serves'); },
  };
}

const empty = (): google.protobuf.Empty => ({});

/**
 * containerd's `Content` service as a grpc-js service definition over plain
 * values: the provider never sees generated shapes (they stop here).
 */
export const contentService = {
  Info: method<ContentMessages['Info'][0], ContentInfo, containerd.services.content.v1.InfoRequest, containerd.services.content.v1.InfoResponse>(
    'Info', false, false, { request: 'InfoRequest', response: `${pkg}.InfoResponse` },
    (m) => ({ digest: m.digest ?? '' }), (info) => ({ info: infoToWire(info) })),
  Update: method<ContentMessages['Update'][0], ContentInfo, containerd.services.content.v1.UpdateRequest, containerd.services.content.v1.UpdateResponse>(
    'Update', false, false, { request: 'UpdateRequest', response: `${pkg}.UpdateResponse` },
    (m) => ({ digest: m.info?.digest ?? '', labels: { ...m.info?.labels }, fieldPaths: m.updateMask?.paths ?? [] }),
    (info) => ({ info: infoToWire(info) })),
  List: method<ContentMessages['List'][0], ContentInfo[], containerd.services.content.v1.ListContentRequest, containerd.services.content.v1.ListContentResponse>(
    'List', false, true, { request: 'ListContentRequest', response: `${pkg}.ListContentResponse` },
    (m) => ({ filters: m.filters ?? [] }), (infos) => ({ info: infos.map(infoToWire) })),
  Delete: method<ContentMessages['Delete'][0], void, containerd.services.content.v1.DeleteContentRequest, google.protobuf.Empty>(
    'Delete', false, false, { request: 'DeleteContentRequest', response: 'google.protobuf.Empty' },
    (m) => ({ digest: m.digest ?? '' }), empty),
  Read: method<ContentMessages['Read'][0], ContentMessages['Read'][1], containerd.services.content.v1.ReadContentRequest, containerd.services.content.v1.ReadContentResponse>(
    'Read', false, true, { request: 'ReadContentRequest', response: `${pkg}.ReadContentResponse` },
    (m) => ({ digest: m.digest ?? '', offset: num(m.offset), size: num(m.size) }), (r) => ({ offset: r.offset, data: r.data })),
  Status: method<ContentMessages['Status'][0], IngestStatus, containerd.services.content.v1.StatusRequest, containerd.services.content.v1.StatusResponse>(
    'Status', false, false, { request: 'StatusRequest', response: `${pkg}.StatusResponse` },
    (m) => ({ ref: m.ref ?? '' }), (s) => ({ status: statusToWire(s) })),
  ListStatuses: method<ContentMessages['ListStatuses'][0], IngestStatus[], containerd.services.content.v1.ListStatusesRequest, containerd.services.content.v1.ListStatusesResponse>(
    'ListStatuses', false, false, { request: 'ListStatusesRequest', response: `${pkg}.ListStatusesResponse` },
    (m) => ({ filters: m.filters ?? [] }), (list) => ({ statuses: list.map(statusToWire) })),
  Write: method<WriteRequest, WriteResponse, containerd.services.content.v1.WriteContentRequest, containerd.services.content.v1.WriteContentResponse>(
    'Write', true, true, { request: 'WriteContentRequest', response: `${pkg}.WriteContentResponse` },
    (m) => ({
      action: actionByWire[String(m.action ?? 'STAT')] ?? 'stat',
      ref: m.ref ?? '',
      total: num(m.total),
      expected: m.expected ?? '',
      offset: num(m.offset),
      data: m.data ? Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength) : Buffer.alloc(0),
      ...(m.labels && Object.keys(m.labels).length > 0 ? { labels: m.labels } : {}),
    }),
    (r) => ({
      action: r.action.toUpperCase() as containerd.services.content.v1.WriteAction,
      offset: r.offset,
      total: r.total,
      digest: r.digest,
      startedAt: timestamp(r.startedAt),
      updatedAt: timestamp(r.updatedAt),
    })),
  Abort: method<ContentMessages['Abort'][0], void, containerd.services.content.v1.AbortRequest, google.protobuf.Empty>(
    'Abort', false, false, { request: 'AbortRequest', response: 'google.protobuf.Empty' },
    (m) => ({ ref: m.ref ?? '' }), empty),
} satisfies grpc.ServiceDefinition;
