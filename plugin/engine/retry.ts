import { BuildkitError, GrpcStatus } from '../buildkit/index';

/**
 * When a target's build is tried again. A failure is retried only when it
 * says nothing about the build itself: the builder could not be reached or
 * dropped the connection, a session vanished under the build, a registry
 * answered 5xx or reset the connection. Anything the user must fix (a
 * Dockerfile error, a failed step, a missing secret, bad credentials, an
 * invalid option) or asked for (cancellation) fails at once: repeating it
 * would only delay the same message.
 */

/** How often and how patiently a failed build is tried again. */
export interface RetryPolicy {
  /** Retries after the first attempt (0 = never retry). */
  attempts: number;
  /** Delay before the first retry; doubles for every further one. */
  baseDelayMs: number;
  /** No delay is longer than this. */
  maxDelayMs: number;
}

/** Two retries, after about 1 s and 2 s: enough to ride out a daemon restart or a dropped connection. */
export const defaultRetryPolicy: RetryPolicy = { attempts: 2, baseDelayMs: 1_000, maxDelayMs: 10_000 };

/** Whether a failure is worth another attempt, and why (the reason is shown to the user). */
export interface FailureClass {
  transient: boolean;
  reason: string;
}

/** Checked first: failures the user must fix, whatever else the message says. */
const permanent: Array<[RegExp, string]> = [
  // A failed step's message quotes its output, which may itself say "connection refused".
  [/did not complete successfully|exit code: \d+/i, 'a build step failed'],
  // (Not "failed to read dockerfile": that is how a lost session shows when the frontend reads it.)
  [/dockerfile parse error|failed to parse|unknown instruction|syntax error|unknown flag/i, 'the Dockerfile is invalid'],
  [/secret [^ ]+ ?(: )?not found|secret .*required|required secret/i, 'a required secret is missing'],
  [/\b401\b|unauthori[sz]ed|authentication required|\b403\b|denied|forbidden|insufficient_scope/i, 'the registry refused the credentials'],
];

/** Failures that say nothing about the build. */
const transient: Array<[RegExp, string]> = [
  [/no active session|session .*(not found|closed)|shared session .*closed/i, 'a session went away during the build'],
  [/connection (reset|refused|dropped)|broken pipe|unexpected EOF|i\/o timeout|transport is closing|ECONNRESET|ECONNREFUSED|EPIPE/i, 'the connection was reset'],
  [/\b50[0234]\b|(internal server error|bad gateway|service unavailable|gateway timeout)/i, 'the registry answered with a server error'],
];

/** Decide whether `error` is worth another attempt. */
export function classifyFailure(error: unknown): FailureClass {
  const e = BuildkitError.from(error);
  // Known for a fact (our side saw the session end), whatever the daemon's
  // words and status quote: when a session's connection drops, the daemon
  // often ends the solve with CANCELLED ("the client connection is closing"),
  // which is not a cancellation anybody asked for.
  if (e.code === 'session-closed') return { transient: true, reason: 'a session went away during the build' };
  if (e.code === 'cancelled' || e.grpcCode === GrpcStatus.CANCELLED) return { transient: false, reason: 'the build was cancelled' };
  if (e.code === 'invalid-argument' || e.grpcCode === GrpcStatus.INVALID_ARGUMENT) return { transient: false, reason: 'invalid argument' };
  for (const [pattern, reason] of permanent) if (pattern.test(e.message)) return { transient: false, reason };
  if (e.code === 'unavailable' || e.grpcCode === GrpcStatus.UNAVAILABLE) return { transient: true, reason: 'the builder was unavailable' };
  for (const [pattern, reason] of transient) if (pattern.test(e.message)) return { transient: true, reason };
  return { transient: false, reason: 'not a known transient failure' };
}

/**
 * Delay before retry number `retry` (1 = the first retry): exponential from
 * `baseDelayMs`, capped at `maxDelayMs`, with "equal jitter" (a random point
 * in the upper half) so targets that failed together do not all come back
 * in the same instant, while each still waits at least half its step.
 */
export function backoffDelay(retry: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const step = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, retry - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

/** What the caller hears before each retry. */
export interface RetryNotice {
  /** The attempt about to start (2 = the first retry). */
  attempt: number;
  delayMs: number;
  /** Why the last attempt failed, and why that is worth another. */
  reason: string;
  error: BuildkitError;
}

/**
 * Run `attempt` until it succeeds, fails permanently, or the retries are
 * used up. The last error is thrown; when it came after retries, its
 * message says how many attempts were made. Aborting stops waiting at once.
 */
export async function withRetries<T>(
  attempt: (n: number) => Promise<T>,
  options: { policy: RetryPolicy; signal?: AbortSignal; onRetry?: (notice: RetryNotice) => void; random?: () => number },
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (err) {
      const error = BuildkitError.from(err);
      if (options.signal?.aborted) throw error;
      const kind = classifyFailure(error);
      if (!kind.transient) throw error;
      if (n > options.policy.attempts) throw n > 1 ? afterAttempts(error, n) : error;
      const delayMs = backoffDelay(n, options.policy, options.random);
      // The first line only: later lines quote step logs, which the final error keeps.
      options.onRetry?.({ attempt: n + 1, delayMs, reason: `${kind.reason}: ${error.message.split('\n')[0]}`, error });
      await sleep(delayMs, options.signal);
    }
  }
}

function afterAttempts(error: BuildkitError, attempts: number): BuildkitError {
  // On the first line, before any quoted step logs.
  const [first, ...rest] = error.message.split('\n');
  const message = [`${first} (gave up after ${attempts} attempts)`, ...rest].join('\n');
  return new BuildkitError(error.code, message, { cause: error, vertex: error.vertex, grpcCode: error.grpcCode });
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const onAbort = () => {
      clearTimeout(timer);
      reject(new BuildkitError('cancelled', 'waiting to retry: operation was aborted', { cause: signal?.reason }));
    };
    if (signal?.aborted) return onAbort();
    timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
