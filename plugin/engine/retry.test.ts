import { describe, expect, test } from 'bun:test';
import { BuildkitError, GrpcStatus } from '../buildkit/index';
import { backoffDelay, classifyFailure, defaultRetryPolicy, withRetries, type RetryNotice } from './retry';

/** A gRPC status error as grpc-js produces it. */
const grpcError = (code: number, details: string) => Object.assign(new Error(`${code} ${details}`), { code, details });

describe('classifyFailure', () => {
  const cases: Array<[string, unknown, boolean]> = [
    // Transient: nothing to do with the build.
    ['daemon unreachable at start', grpcError(GrpcStatus.UNAVAILABLE, 'No connection established. Last error: connect ECONNREFUSED'), true],
    ['connection dropped mid-build', new BuildkitError('unavailable', 'app: lost the connection to the builder at docker:///x.sock (solve: Connection dropped)', { grpcCode: GrpcStatus.UNAVAILABLE }), true],
    ['socket reset', Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }), true],
    ['own session lost', new BuildkitError('session-closed', "the build's session closed before the solve finished"), true],
    ['shared session lost', new BuildkitError('session-closed', "app: the run's shared session serving the build context closed before the build finished"), true],
    ['shared session lost while the frontend read the Dockerfile', new BuildkitError('session-closed', "app: the run's shared session serving the build context closed before the build finished (daemon said: failed to read dockerfile: rpc error: code = Unavailable desc = error reading from server)"), true],
    [
      'shared session lost, the daemon ending the solve as CANCELLED',
      new BuildkitError('session-closed', "s1: the run's shared session serving the build context closed before the build finished (daemon said: solve: failed to read dockerfile: rpc error: code = Canceled desc = grpc: the client connection is closing)", { grpcCode: 1 }),
      true,
    ],
    ['no active session race', grpcError(GrpcStatus.UNKNOWN, 'no active session for abc123: context deadline exceeded'), true],
    ['registry 503 on push', grpcError(GrpcStatus.UNKNOWN, 'failed to push 127.0.0.1:5000/app:latest: unexpected status from PUT request: 503 Service Unavailable'), true],
    ['registry 502', grpcError(GrpcStatus.UNKNOWN, 'failed to do request: Head "http://r/v2/app/blobs/sha256:1": 502 Bad Gateway'), true],
    ['registry connection reset on push', grpcError(GrpcStatus.UNKNOWN, 'failed to push r/app:1: failed to do request: Put "http://r/v2/": read tcp 127.0.0.1:1->127.0.0.1:2: read: connection reset by peer'), true],
    ['registry closes mid-push', grpcError(GrpcStatus.UNKNOWN, 'failed to copy: unexpected EOF'), true],
    // Permanent: the user must fix something, or asked for it.
    ['Dockerfile syntax error', grpcError(GrpcStatus.UNKNOWN, 'dockerfile parse error on line 2: unknown instruction: RUNN'), false],
    ['frontend cannot read Dockerfile', grpcError(GrpcStatus.UNKNOWN, 'failed to solve with frontend dockerfile.v0: failed to read dockerfile: open Dockerfile: no such file'), false],
    ['missing secret', grpcError(GrpcStatus.UNKNOWN, 'secret token: not found'), false],
    ['401 on push', grpcError(GrpcStatus.UNKNOWN, 'failed to push r/app: unexpected status: 401 Unauthorized'), false],
    ['403 even with a reset in it', grpcError(GrpcStatus.UNKNOWN, 'push access denied, connection reset afterwards: 403 Forbidden'), false],
    ['invalid argument', grpcError(GrpcStatus.INVALID_ARGUMENT, 'invalid platform "linux/xyz"'), false],
    ['cancelled', grpcError(GrpcStatus.CANCELLED, 'context canceled'), false],
    ['aborted locally', new BuildkitError('cancelled', 'operation was aborted'), false],
    // A failed step quotes its output; what the step printed must not make it transient.
    ['failed step that printed connection refused', new BuildkitError('unknown', 'app: process "/bin/sh -c curl x" did not complete successfully: exit code: 7\n  curl: (7) connection refused'), false],
    ['unknown failure', grpcError(GrpcStatus.UNKNOWN, 'something odd'), false],
  ];
  for (const [name, error, transient] of cases) {
    test(`${name} → ${transient ? 'transient' : 'permanent'}`, () => {
      const c = classifyFailure(error);
      expect(c.transient).toBe(transient);
      expect(c.reason.length).toBeGreaterThan(0);
    });
  }
});

describe('backoffDelay', () => {
  const policy = { attempts: 10, baseDelayMs: 100, maxDelayMs: 1_000 };
  test('grows exponentially, stays within [step/2, step], never above the cap', () => {
    for (let retry = 1; retry <= 12; retry++) {
      const step = Math.min(1_000, 100 * 2 ** (retry - 1));
      expect(backoffDelay(retry, policy, () => 0)).toBe(step / 2);
      expect(backoffDelay(retry, policy, () => 0.999999)).toBeLessThanOrEqual(step);
      for (let i = 0; i < 50; i++) {
        const d = backoffDelay(retry, policy);
        expect(d).toBeGreaterThanOrEqual(step / 2);
        expect(d).toBeLessThanOrEqual(Math.min(step, policy.maxDelayMs));
      }
    }
  });
  test('jitter spreads targets that failed together', () => {
    const delays = new Set(Array.from({ length: 20 }, () => backoffDelay(1, defaultRetryPolicy)));
    expect(delays.size).toBeGreaterThan(5);
  });
  test('huge retry numbers do not overflow the cap', () => {
    expect(backoffDelay(10_000, policy, () => 1)).toBe(1_000);
  });
});

describe('withRetries', () => {
  const fast = { attempts: 2, baseDelayMs: 1, maxDelayMs: 4 };
  const transient = () => new BuildkitError('unavailable', 'lost the connection to the builder at unix:///x (Connection dropped)\nstep logs:\n  quoted');

  test('a permanent failure is attempted once', async () => {
    let calls = 0;
    const notices: RetryNotice[] = [];
    const err = await withRetries(async () => {
      calls++;
      throw new BuildkitError('unknown', 'dockerfile parse error on line 1: unknown instruction: FRM');
    }, { policy: fast, onRetry: (n) => notices.push(n) }).catch((e: Error) => e);
    expect(calls).toBe(1);
    expect(notices).toEqual([]);
    expect((err as Error).message).toBe('dockerfile parse error on line 1: unknown instruction: FRM');
  });

  test('a transient failure is retried, then succeeds; each retry is announced', async () => {
    let calls = 0;
    const notices: RetryNotice[] = [];
    const value = await withRetries(async (n) => {
      calls++;
      if (n < 3) throw transient();
      return 'ok';
    }, { policy: fast, onRetry: (n) => notices.push(n) });
    expect(value).toBe('ok');
    expect(calls).toBe(3);
    expect(notices.map((n) => n.attempt)).toEqual([2, 3]);
    expect(notices[0]!.reason).toMatch(/^the builder was unavailable: lost the connection/);
    expect(notices[0]!.reason).not.toContain('\n');
    expect(notices.every((n) => n.delayMs >= 0 && n.delayMs <= fast.maxDelayMs)).toBe(true);
  });

  test('gives up after the configured retries and says so', async () => {
    let calls = 0;
    const err = await withRetries(async () => {
      calls++;
      throw transient();
    }, { policy: fast }).catch((e: BuildkitError) => e);
    expect(calls).toBe(3);
    expect(err.code).toBe('unavailable');
    expect(err.message).toBe('lost the connection to the builder at unix:///x (Connection dropped) (gave up after 3 attempts)\nstep logs:\n  quoted');
  });

  test('attempts: 0 never retries', async () => {
    let calls = 0;
    await withRetries(async () => {
      calls++;
      throw transient();
    }, { policy: { ...fast, attempts: 0 } }).catch(() => undefined);
    expect(calls).toBe(1);
  });

  test('aborting during the back-off stops at once, without another attempt', async () => {
    const controller = new AbortController();
    let calls = 0;
    const started = Date.now();
    const err = await withRetries(async () => {
      calls++;
      setTimeout(() => controller.abort(), 20);
      throw transient();
    }, { policy: { attempts: 5, baseDelayMs: 10_000, maxDelayMs: 10_000 }, signal: controller.signal }).catch((e: BuildkitError) => e);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(calls).toBe(1);
    expect(err.code).toBe('cancelled');
  });
});
