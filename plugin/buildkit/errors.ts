import type { ErrorDetails } from './errdefs/error-details';
import { sourceExcerpt } from './errdefs/source-excerpt';
import { redact } from './redact';

/**
 * The one error type of the BuildKit client. Every failure that leaves the
 * client is a `BuildkitError` that keeps its parts: a stable `code`, the
 * message, the words of whoever failed (`rawMessage`), the target it belongs
 * to, the daemon's decoded status details and the original `cause`. gRPC and
 * Node errors are translated at the boundary by {@link BuildkitError.from};
 * the text a user reads is composed once, where it is printed, by
 * {@link describeError}.
 */

/** Stable error codes; callers branch on these, never on message text. */
export type BuildkitErrorCode =
  | 'invalid-argument'
  | 'unavailable'
  | 'not-found'
  | 'already-exists'
  | 'permission-denied'
  | 'unauthenticated'
  | 'deadline-exceeded'
  | 'cancelled'
  | 'unimplemented'
  | 'failed-precondition'
  | 'protocol'
  | 'session-closed'
  | 'internal'
  | 'unknown';

/** gRPC status codes (numeric values are wire facts). */
export const GrpcStatus = {
  OK: 0,
  CANCELLED: 1,
  UNKNOWN: 2,
  INVALID_ARGUMENT: 3,
  DEADLINE_EXCEEDED: 4,
  NOT_FOUND: 5,
  ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7,
  RESOURCE_EXHAUSTED: 8,
  FAILED_PRECONDITION: 9,
  ABORTED: 10,
  OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
  DATA_LOSS: 15,
  UNAUTHENTICATED: 16,
} as const;

const codeByGrpcStatus: Record<number, BuildkitErrorCode> = {
  [GrpcStatus.CANCELLED]: 'cancelled',
  [GrpcStatus.INVALID_ARGUMENT]: 'invalid-argument',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'deadline-exceeded',
  [GrpcStatus.NOT_FOUND]: 'not-found',
  [GrpcStatus.ALREADY_EXISTS]: 'already-exists',
  [GrpcStatus.PERMISSION_DENIED]: 'permission-denied',
  [GrpcStatus.FAILED_PRECONDITION]: 'failed-precondition',
  [GrpcStatus.UNIMPLEMENTED]: 'unimplemented',
  [GrpcStatus.INTERNAL]: 'internal',
  [GrpcStatus.UNAVAILABLE]: 'unavailable',
  [GrpcStatus.UNAUTHENTICATED]: 'unauthenticated',
};

/** Extra context a failure may carry. */
export interface BuildkitErrorDetails {
  /** The build target the failure belongs to (kept apart from the message; printers name it); inherited from a `BuildkitError` cause when not given. */
  target?: string;
  /** Digest of the LLB vertex that failed, when known (defaults to the status details' vertex). */
  vertex?: string;
  /** gRPC status code, when the failure came from a gRPC call. */
  grpcCode?: number;
  /** The daemon's decoded status details; inherited from a `BuildkitError` cause when not given. */
  details?: ErrorDetails;
  /** The words of whoever failed, without what the caller was attempting; defaults to the message. */
  rawMessage?: string;
}

/** The single error type thrown by the BuildKit client. */
export class BuildkitError extends Error {
  override readonly name = 'BuildkitError';
  readonly code: BuildkitErrorCode;
  /** What the failing party itself said (the daemon's status message, a system error's text), redacted. */
  readonly rawMessage: string;
  readonly target?: string;
  readonly vertex?: string;
  readonly grpcCode?: number;
  /** Typed details the daemon sent with its status (source locations, vertex, frontend), if any. */
  readonly details?: ErrorDetails;

  constructor(code: BuildkitErrorCode, message: string, options: { cause?: unknown } & BuildkitErrorDetails = {}) {
    super(redact(message), { cause: options.cause });
    this.code = code;
    this.rawMessage = options.rawMessage === undefined ? this.message : redact(options.rawMessage);
    // A wrapper explains the same failure: it keeps the target and details of the error it wraps.
    const wrapped = options.cause instanceof BuildkitError ? options.cause : undefined;
    const details = options.details ?? wrapped?.details;
    if (details !== undefined) this.details = details;
    const target = options.target ?? wrapped?.target;
    if (target !== undefined) this.target = target;
    const vertex = options.vertex ?? details?.vertex;
    if (vertex !== undefined) this.vertex = vertex;
    if (options.grpcCode !== undefined) this.grpcCode = options.grpcCode;
  }

  /**
   * Translate anything thrown (gRPC status errors, Node system errors,
   * aborts, plain values) into a BuildkitError. `context` prefixes the message
   * with what was being attempted.
   */
  static from(err: unknown, context?: string): BuildkitError {
    if (err instanceof BuildkitError) {
      return context ? new BuildkitError(err.code, `${context}: ${err.message}`, { cause: err, vertex: err.vertex, grpcCode: err.grpcCode, rawMessage: err.rawMessage }) : err;
    }
    const prefix = context ? `${context}: ` : '';
    if (isGrpcStatusError(err)) {
      const code = codeByGrpcStatus[err.code] ?? 'unknown';
      // The cause keeps the status but not the raw text, which may quote session IDs.
      const cause = Object.assign(new Error(redact(err.message)), { code: err.code, details: redact(err.details ?? '') });
      const said = err.code === GrpcStatus.DEADLINE_EXCEEDED ? deadlineText(err.details || err.message) : err.details || err.message;
      const details = statusDetailsOf(err);
      return new BuildkitError(code, prefix + said, { cause, grpcCode: err.code, rawMessage: said, ...(details ? { details } : {}) });
    }
    if (isAbortError(err)) {
      return new BuildkitError('cancelled', `${prefix}operation was aborted`, { cause: err, rawMessage: 'operation was aborted' });
    }
    if (err instanceof Error) {
      const sys = (err as NodeJS.ErrnoException).code;
      const code: BuildkitErrorCode =
        sys === 'ENOENT' ? 'not-found'
        : sys === 'EACCES' || sys === 'EPERM' ? 'permission-denied'
        : sys === 'ECONNREFUSED' || sys === 'ECONNRESET' || sys === 'EPIPE' || sys === 'EHOSTUNREACH' ? 'unavailable'
        : sys === 'ETIMEDOUT' ? 'deadline-exceeded'
        : 'unknown';
      return new BuildkitError(code, prefix + err.message, { cause: err, rawMessage: err.message });
    }
    return new BuildkitError('unknown', prefix + String(err), { cause: err, rawMessage: String(err) });
  }

  /** A copy of this error that belongs to `target` (its message is unchanged). */
  forTarget(target: string): BuildkitError {
    if (this.target === target) return this;
    return new BuildkitError(this.code, this.message, { cause: this.cause ?? this, target, vertex: this.vertex, grpcCode: this.grpcCode, rawMessage: this.rawMessage, ...(this.details ? { details: this.details } : {}) });
  }
}

/**
 * The text a user reads for a failure: the message, then the source lines
 * the daemon located it at (a Dockerfile syntax error shows `Dockerfile:LINE`
 * and the offending line, like buildx). With `withTarget`, prefixed by the
 * target it belongs to. Anything that is not a BuildkitError prints as its
 * message.
 */
export function describeError(error: unknown, options: { withTarget?: boolean } = {}): string {
  if (!(error instanceof BuildkitError)) return error instanceof Error ? error.message : String(error);
  const head = options.withTarget && error.target ? `${error.target}: ${error.message}` : error.message;
  const excerpts = (error.details?.sources ?? []).map(sourceExcerpt).filter(Boolean);
  return redact([head, ...excerpts].join('\n'));
}

/** The decoded `grpc-status-details-bin` trailer of a failed call, if the daemon sent one we can read. */
function statusDetailsOf(err: GrpcStatusError): ErrorDetails | undefined {
  const raw = err.metadata?.get('grpc-status-details-bin')?.[0];
  return raw instanceof Uint8Array ? statusDetailsDecoder?.(raw) : undefined;
}

/**
 * What reads a failed call's `grpc-status-details-bin`: installed by the
 * protocol layer (errdefs/wire.ts), which the gRPC transport loads. A gRPC
 * status exists only once gRPC is loaded; until then the error type loads
 * without protobufjs, for code that never talks to a daemon (the Nx graph
 * plugin, whose every load costs each Nx command).
 */
let statusDetailsDecoder: ((raw: Uint8Array) => ErrorDetails | undefined) | undefined;

/** Install the reader of `grpc-status-details-bin` (see statusDetailsDecoder). */
export function useStatusDetailsDecoder(decode: (raw: Uint8Array) => ErrorDetails | undefined): void {
  statusDetailsDecoder = decode;
}

/**
 * grpc-js words a passed deadline with its own timing breakdown ("Deadline
 * exceeded after 5.003s,name resolution: 0.009s,…,Waiting for LB pick"),
 * which tells users nothing; keep what it means.
 */
function deadlineText(details: string): string {
  const after = /^Deadline exceeded after ([\d.]+)s\b/.exec(details);
  return after ? `no answer within ${Number(after[1]).toFixed(1)} s (deadline exceeded)` : details;
}

interface GrpcStatusError extends Error {
  code: number;
  details: string;
  metadata?: { get(key: string): unknown[] };
}

function isGrpcStatusError(err: unknown): err is GrpcStatusError {
  return err instanceof Error && typeof (err as Partial<GrpcStatusError>).code === 'number' && 'details' in err;
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === 'AbortError' || err.name === 'TimeoutError');
}
