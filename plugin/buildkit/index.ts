/**
 * nx-buildkit's BuildKit client: a TypeScript client for BuildKit's gRPC API
 * (standalone buildkitd or a Docker engine's embedded BuildKit). This is the
 * only import path from outside `plugin/buildkit/`; it never imports Nx.
 */
export { BuildkitClient, type ConnectOptions, type SolveOptions } from './client';
export { BuildkitError, GrpcStatus, describeError, type BuildkitErrorCode, type BuildkitErrorDetails } from './errors';
export type { ErrorDetails, SourceLocation } from './errdefs/error-details';
export type {
  DaemonVersion, SolveRequestInit, SolveResponse, SolveStatus, TypedAttrs, UsageRecord,
  VertexLog, VertexProgress, VertexUpdate, VertexWarning, WorkerInfo,
} from './control/types';
export { ControlClient } from './control/control-client';
export { Session, type SessionDialer, type SessionOptions } from './session/session';
export type { Attachable, SessionServiceRegistry } from './session/attachable';
export { FileSyncProvider, type FileSyncCounters, type SyncedDir, type DiffCopyRequest, type RequestFilterFactory } from './attachables/filesync/file-sync-provider';
export type { TreeFilter, FilterDecision, FilterVerdict } from './attachables/filesync/walk-tree';
export { createPathFilter, type PathFilterOptions } from './attachables/filesync/patterns/path-filter';
export { PatternMatcher } from './attachables/filesync/patterns/pattern-matcher';
export { readDockerignore, parseIgnoreFile, type DockerignoreOptions } from './attachables/filesync/patterns/ignore-file';
export { FileSendProvider, type OutputTarget, type ReceivedOutput } from './attachables/filesend/file-send-provider';
export { SecretsProvider } from './attachables/secrets/secrets-provider';
export { maxSecretBytes, type SecretSpec } from './attachables/secrets/secret-source';
export { SshProvider, defaultSshId, type SshAgentSpec } from './attachables/ssh/ssh-provider';
export { AuthProvider, type AuthProviderOptions } from './attachables/auth/auth-provider';
export { parseDockerConfig, type DockerConfig, type RegistryAuthEntry } from './attachables/auth/docker-config';
export type { RegistryCredentials } from './attachables/auth/credential-helper';
export { State, type RunMount, type RunOptions, type LocalOptions, type ImageOptions, type OciLayoutOptions, type Platform, type CopyOptions, type MkfileOptions, type MkdirOptions } from './llb/state';
export { marshal, digestOf, type Definition, type MarshalOptions } from './llb/marshal';
export { parseBuilderAddress, type BuilderAddress, type DockerEndpoint, type TlsFiles } from './transport/builder-address';
export { ProgressTracker } from './progress/progress-tracker';
export { ContentStoreProvider, storeIds } from './attachables/content/content-store-provider';
export { OciLayoutStore } from './attachables/content/oci-layout-store';
export { ContentWriter } from './attachables/content/content-writer';
export type { ContentInfo, IngestStatus } from './attachables/content/content-types';
export { readOciIndex, putInOciIndex, findByTag, type OciDescriptor, type OciIndex, type IndexName } from './attachables/content/oci-index';
export { resolveLocalCacheImport, writeLocalCacheIndex } from './attachables/content/local-cache';
export { writeOciLayoutIndex } from './attachables/content/oci-layout-index';
export { buildImage, type BuildOptions } from './build/build-image';
export { BuilderCapabilities, formatCapabilities, type CapabilitiesReport } from './capabilities/builder-capabilities';
export { bindingUnsupported } from './capabilities/binding-probe';
export type { BindingMechanism } from './capabilities/binding-probe';
export { builderIdentity } from './capabilities/builder-identity';
export type { CapabilityStore, CapabilitySource, RememberedCapabilities } from './capabilities/capability-store';
export { escapesFilterHeaders } from './build/filter-header-escaping';
export { headerSafe } from './build/non-ascii-filters';
export { findLoadEngine, type LoadEngine } from './build/engine-load';
export { engineApiRequest, type EngineAnswer } from './transport/engine-api';
export type { BuildSpec, NamedContext, OutputSpec, CacheSpec, ImageAnnotation } from './build/build-spec';
export { validateCacheSpecs } from './build/cache-specs';
export type { BuildResult } from './build/build-result';
export type { ContextSource } from './build/context-source';
export { refusePrivate, privateMethods } from './attachables/refuse-private';
export { PlainProgress } from './progress/plain-progress';
export { JsonProgress, type JsonProgressEvent, type JsonVertexStatus } from './progress/json-progress';
export { TtyProgress, type LiveRegion, type TargetEnd, type TtyProgressOptions } from './progress/tty-progress';
export { markPhase } from './debug-timing';
export { redact, redactDeep, registerSecret, minRedactedLength } from './redact';
export { readCredentialIdentity, credentialIdentity, anonymousIdentity, type CredentialIdentity } from './attachables/auth/credential-identity';
