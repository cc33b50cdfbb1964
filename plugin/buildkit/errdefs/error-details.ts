/**
 * What a daemon says about a failure beyond its message: the typed details
 * BuildKit puts into the gRPC status (`grpc-status-details-bin`, a
 * google.rpc.Status whose `details` are `errdefs` messages), as plain data.
 */
export interface ErrorDetails {
  /** Digest of the LLB vertex that failed (errdefs.Vertex). */
  vertex?: string;
  /** Places in source files the failure points at, innermost first (errdefs.Source). */
  sources: SourceLocation[];
  /** The frontend that failed, e.g. `dockerfile.v0` (errdefs.Frontend). */
  frontend?: string;
  /** A frontend capability the frontend lacks (errdefs.FrontendCap). */
  frontendCap?: string;
  /** A frontend subrequest the daemon does not support (errdefs.Subrequest). */
  subrequest?: string;
  /** The failed solve step's description (errdefs.Solve), e.g. `{ "llb.customname": "[2/3] COPY …" }`. */
  solve?: { description: Record<string, string> };
}

/** One errdefs.Source: a file the daemon was given and the ranges of it that failed. */
export interface SourceLocation {
  /** The file's name as the frontend knows it, e.g. `Dockerfile`. */
  filename: string;
  /** The file's language, e.g. `Dockerfile`, when the daemon names it. */
  language?: string;
  /** The whole file as the daemon read it. */
  text: string;
  /** 1-based line ranges (inclusive); BuildKit's positions count lines from 1. */
  ranges: Array<{ start: number; end: number }>;
}
