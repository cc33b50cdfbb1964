import type { Definition } from '../llb/marshal';
import type { Platform } from '../llb/state';

/** A worker of the daemon (`ListWorkers`). */
export interface WorkerInfo {
  id: string;
  labels: Record<string, string>;
  platforms: Platform[];
  /** Present on daemons ≥ v0.11 (Debian-built ones report `v0.0.0+unknown`). */
  buildkitVersion?: DaemonVersion;
}

/** The daemon's own version (`Info`, v0.11+). */
export interface DaemonVersion {
  package: string;
  version: string;
  revision: string;
}

/** An exporter or cache backend: a type and its attributes. */
export interface TypedAttrs {
  type: string;
  attrs: Record<string, string>;
}

/** Everything one `Solve` call sends. */
export interface SolveRequestInit {
  /** Unique build ID among the daemon's active jobs; also the Status key. */
  ref: string;
  /** ID of the solve's own session (exports and default lookups go there). */
  session: string;
  /** LLB to solve; absent when a frontend is used. */
  definition?: Definition;
  frontend?: string;
  frontendAttrs?: Record<string, string>;
  /** Named LLB inputs for the frontend (`context`, `dockerfile`, …). */
  frontendInputs?: Record<string, Definition>;
  exporters?: TypedAttrs[];
  cacheImports?: TypedAttrs[];
  cacheExports?: TypedAttrs[];
  entitlements?: string[];
}

/** What a finished solve returned. */
export interface SolveResponse {
  /** Merged exporter responses (`containerimage.digest`, `image.name`, …). */
  exporterResponse: Record<string, string>;
}

/** A vertex update: the same digest appears many times; merge by digest. */
export interface VertexUpdate {
  digest: string;
  inputs: string[];
  name: string;
  cached: boolean;
  started?: Date;
  completed?: Date;
  error?: string;
}

/** Sub-progress of a vertex (transfers, layer pulls). */
export interface VertexProgress {
  id: string;
  vertex: string;
  name: string;
  current: number;
  total: number;
  started?: Date;
  completed?: Date;
}

/** A chunk of a vertex's output. */
export interface VertexLog {
  vertex: string;
  /** 1 = stdout, 2 = stderr. */
  stream: number;
  data: Uint8Array;
  timestamp?: Date;
}

/** A warning the frontend or solver raised for a vertex. */
export interface VertexWarning {
  vertex: string;
  level: number;
  short: string;
  detail: string[];
  url: string;
}

/** One message of the Status stream, as plain values. */
export interface SolveStatus {
  vertexes: VertexUpdate[];
  statuses: VertexProgress[];
  logs: VertexLog[];
  warnings: VertexWarning[];
}

/** A cache record (`DiskUsage`). */
export interface UsageRecord {
  id: string;
  mutable: boolean;
  inUse: boolean;
  size: number;
  description: string;
  recordType: string;
  shared: boolean;
  createdAt?: Date;
  lastUsedAt?: Date;
}
