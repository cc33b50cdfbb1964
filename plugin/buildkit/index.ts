/**
 * nx-buildkit's BuildKit client: a TypeScript client for BuildKit's gRPC API
 * (standalone buildkitd or a Docker engine's embedded BuildKit). This is the
 * only import path from outside `plugin/buildkit/`; it never imports Nx.
 */
export { BuildkitClient, type ConnectOptions, type SolveOptions } from './client';
export { BuildkitError, GrpcStatus, type BuildkitErrorCode } from './errors';
export type {
  DaemonVersion, SolveRequestInit, SolveResponse, SolveStatus, TypedAttrs, UsageRecord,
  VertexLog, VertexProgress, VertexUpdate, VertexWarning, WorkerInfo,
} from './control/types';
export { ControlClient } from './control/control-client';
export { Session, type SessionDialer, type SessionOptions } from './session/session';
export type { Attachable, SessionServiceRegistry } from './session/attachable';
export { FileSyncProvider, type FileSyncCounters, type SyncedDir } from './attachables/filesync/file-sync-provider';
export { FileSendProvider, type OutputTarget, type ReceivedOutput } from './attachables/filesend/file-send-provider';
export { State, type LocalOptions, type ImageOptions, type Platform, type CopyOptions, type MkfileOptions, type MkdirOptions } from './llb/state';
export { marshal, digestOf, type Definition, type MarshalOptions } from './llb/marshal';
export { parseBuilderAddress, type BuilderAddress, type TlsFiles } from './transport/builder-address';
export { ProgressTracker } from './progress/progress-tracker';
