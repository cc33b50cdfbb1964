import type { moby, google, pb } from '../gen/types';
import { messageCodec } from '../protocol/root';
import type { Definition } from '../llb/marshal';
import type {
  DaemonVersion, SolveRequestInit, SolveResponse, SolveStatus, UsageRecord, WorkerInfo,
} from './types';

/** Codecs of the Control service messages. */
export const codecs = {
  solveRequest: messageCodec<moby.buildkit.v1.SolveRequest>('moby.buildkit.v1.SolveRequest'),
  solveResponse: messageCodec<moby.buildkit.v1.SolveResponse>('moby.buildkit.v1.SolveResponse'),
  statusRequest: messageCodec<moby.buildkit.v1.StatusRequest>('moby.buildkit.v1.StatusRequest'),
  statusResponse: messageCodec<moby.buildkit.v1.StatusResponse>('moby.buildkit.v1.StatusResponse'),
  listWorkersRequest: messageCodec<moby.buildkit.v1.ListWorkersRequest>('moby.buildkit.v1.ListWorkersRequest'),
  listWorkersResponse: messageCodec<moby.buildkit.v1.ListWorkersResponse>('moby.buildkit.v1.ListWorkersResponse'),
  infoRequest: messageCodec<moby.buildkit.v1.InfoRequest>('moby.buildkit.v1.InfoRequest'),
  infoResponse: messageCodec<moby.buildkit.v1.InfoResponse>('moby.buildkit.v1.InfoResponse'),
  diskUsageRequest: messageCodec<moby.buildkit.v1.DiskUsageRequest>('moby.buildkit.v1.DiskUsageRequest'),
  pruneRequest: messageCodec<moby.buildkit.v1.PruneRequest>('moby.buildkit.v1.PruneRequest'),
  usageRecord: messageCodec<moby.buildkit.v1.UsageRecord>('moby.buildkit.v1.UsageRecord'),
  diskUsageResponse: messageCodec<moby.buildkit.v1.DiskUsageResponse>('moby.buildkit.v1.DiskUsageResponse'),
};

function wireDefinition(d: Definition): pb.Definition {
  return { def: d.def, metadata: d.metadata as pb.Definition['metadata'] };
}

/**
 * The wire SolveRequest. Exporters go both into `Exporters` (v0.13+) and,
 * for the first one, into the deprecated single-exporter fields that daemons
 * before v0.13 read (newer ones ignore those when `Exporters` is set).
 */
export function toWireSolveRequest(r: SolveRequestInit): moby.buildkit.v1.SolveRequest {
  const exporters = r.exporters ?? [];
  const frontendAttrs = { ...r.frontendAttrs };
  if (r.frontend && r.cacheImports?.length) {
    // The Dockerfile frontend reads cache imports from its attrs, not from Cache.
    frontendAttrs['cache-imports'] = JSON.stringify(r.cacheImports.map((c) => ({ Type: c.type, Attrs: c.attrs })));
  }
  return {
    Ref: r.ref,
    Session: r.session,
    ...(r.definition ? { Definition: wireDefinition(r.definition) } : {}),
    ...(r.frontend ? { Frontend: r.frontend } : {}),
    FrontendAttrs: frontendAttrs,
    ...(r.frontendInputs
      ? { FrontendInputs: Object.fromEntries(Object.entries(r.frontendInputs).map(([k, d]) => [k, wireDefinition(d)])) }
      : {}),
    ...(exporters[0] ? { ExporterDeprecated: exporters[0].type, ExporterAttrsDeprecated: exporters[0].attrs } : {}),
    Exporters: exporters.map((e) => ({ Type: e.type, Attrs: e.attrs })),
    Cache: {
      Imports: (r.cacheImports ?? []).map((c) => ({ Type: c.type, Attrs: c.attrs })),
      Exports: (r.cacheExports ?? []).map((c) => ({ Type: c.type, Attrs: c.attrs })),
    },
    Entitlements: r.entitlements ?? [],
  };
}

export function fromWireSolveResponse(r: moby.buildkit.v1.SolveResponse): SolveResponse {
  return { exporterResponse: { ...r.ExporterResponse } };
}

function date(t: google.protobuf.Timestamp | undefined): Date | undefined {
  if (!t) return undefined;
  return new Date(Number(t.seconds ?? 0) * 1000 + Math.floor((t.nanos ?? 0) / 1e6));
}

function optional<K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> {
  return value === undefined ? {} : ({ [key]: value } as Record<K, V>);
}

export function fromWireStatus(r: moby.buildkit.v1.StatusResponse): SolveStatus {
  const text = (b: Uint8Array | undefined) => Buffer.from(b ?? []).toString('utf8');
  return {
    vertexes: (r.vertexes ?? []).map((v) => ({
      digest: v.digest ?? '',
      inputs: v.inputs ?? [],
      name: v.name ?? '',
      cached: v.cached ?? false,
      ...optional('started', date(v.started)),
      ...optional('completed', date(v.completed)),
      ...optional('error', v.error || undefined),
    })),
    statuses: (r.statuses ?? []).map((s) => ({
      id: s.ID ?? '',
      vertex: s.vertex ?? '',
      name: s.name ?? '',
      current: Number(s.current ?? 0),
      total: Number(s.total ?? 0),
      ...optional('started', date(s.started)),
      ...optional('completed', date(s.completed)),
    })),
    logs: (r.logs ?? []).map((l) => ({
      vertex: l.vertex ?? '',
      stream: Number(l.stream ?? 0),
      data: l.msg ?? new Uint8Array(),
      ...optional('timestamp', date(l.timestamp)),
    })),
    warnings: (r.warnings ?? []).map((w) => ({
      vertex: w.vertex ?? '',
      level: Number(w.level ?? 0),
      short: text(w.short),
      detail: (w.detail ?? []).map(text),
      url: w.url ?? '',
    })),
  };
}

function version(v: moby.buildkit.v1.types.BuildkitVersion | undefined): DaemonVersion | undefined {
  if (!v) return undefined;
  return { package: v.package ?? '', version: v.version ?? '', revision: v.revision ?? '' };
}

export function fromWireWorkers(r: moby.buildkit.v1.ListWorkersResponse): WorkerInfo[] {
  return (r.record ?? []).map((w) => ({
    id: w.ID ?? '',
    labels: { ...w.Labels },
    platforms: (w.platforms ?? []).map((p) => ({
      os: p.OS ?? '',
      architecture: p.Architecture ?? '',
      ...optional('variant', p.Variant || undefined),
    })),
    ...optional('buildkitVersion', version(w.BuildkitVersion)),
  }));
}

export function fromWireInfo(r: moby.buildkit.v1.InfoResponse): DaemonVersion | undefined {
  return version(r.buildkitVersion);
}

export function fromWireUsage(r: moby.buildkit.v1.DiskUsageResponse): UsageRecord[] {
  return (r.record ?? []).map((u) => ({
    id: u.ID ?? '',
    mutable: u.Mutable ?? false,
    inUse: u.InUse ?? false,
    size: Number(u.Size ?? 0),
    description: u.Description ?? '',
    recordType: u.RecordType ?? '',
    shared: u.Shared ?? false,
    ...optional('createdAt', date(u.CreatedAt)),
    ...optional('lastUsedAt', date(u.LastUsedAt)),
  }));
}
