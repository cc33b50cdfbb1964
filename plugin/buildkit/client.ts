import { controlSessionDialer } from './control-session-dialer';
import { ControlClient } from './control/control-client';
import type { SolveRequestInit, SolveResponse, SolveStatus, WorkerInfo } from './control/types';
import { markPhase } from './debug-timing';
import { BuildkitError, GrpcStatus } from './errors';
import { randomId } from './random-id';
import { dockerSessionDialer } from './session/docker-session-dialer';
import { Session, type SessionDialer, type SessionOptions } from './session/session';
import type { BuilderAddress, TlsFiles } from './transport/builder-address';
import { openGrpcChannel, type GrpcChannel } from './transport/channel';
import { imageStoreOf, readEngineInfo, type EngineInfo } from './transport/engine-image-store';
import { probeReachable } from './transport/probe';
import { builderCandidates, noBuilderError, type BuilderCandidate } from './transport/resolve-builder';

/** How to find and reach the daemon. */
export interface ConnectOptions {
  /** Builder address (`unix://`, `tcp://`, `docker://`); otherwise resolved from the environment. */
  address?: string;
  /** TLS files for a `tcp://` builder. */
  tls?: TlsFiles;
  /** Environment to resolve from (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** How long each candidate may take to answer (default 5 s). */
  timeoutMs?: number;
  /**
   * How sessions reach a Docker engine: `docker` = the engine's own `POST
   * /session` upgrade (default: what buildx uses, one HTTP/2 layer, the
   * faster transfer; an engine, or a proxy in front of it, that refuses the
   * upgrade makes the client fall back to `grpc` for the rest of its life),
   * `grpc` = `Control/Session` inside the `/grpc` connection (works on every
   * engine generation, a second HTTP/2 layer). Standalone daemons always use `grpc`.
   */
  sessionTransport?: 'grpc' | 'docker';
  /**
   * While solves run, the daemon is asked every few seconds whether it still
   * answers (`ListWorkers`); when it leaves one question unanswered this long,
   * every running solve fails saying so (default 20 s). A daemon that hangs
   * (stopped, deadlocked) would otherwise keep them waiting forever.
   */
  hangTimeoutMs?: number;
  signal?: AbortSignal;
}

/** Options of one solve run through {@link BuildkitClient.solve}. */
export interface SolveOptions {
  /** Receives every Status message as plain values. */
  onStatus?: (status: SolveStatus) => void;
  signal?: AbortSignal;
}

/** How long a closed session is remembered for explaining failures of solves that used it. */
const sessionMemoryMs = 60_000;
/** How long a failed solve waits for its session's end to become visible locally. */
const sessionSettleMs = 250;
/** How long a failed solve waits to learn whether the daemon still answers. */
const reachableCheckMs = 2_000;
/** How often a running solve's daemon is asked whether it still answers (at most; shorter hang timeouts ask more often). */
const livenessIntervalMs = 5_000;
/** Default of {@link ConnectOptions.hangTimeoutMs}. */
const defaultHangTimeoutMs = 20_000;
/** Pause before asking again for the progress of a job the daemon did not know yet. */
const statusRetryMs = 100;
/** How long to wait for the Status stream to finish after the solve returned. */
const statusDrainMs = 5_000;
/** The same after the solve failed. */
const failedStatusDrainMs = 1_000;

/**
 * A connection to one BuildKit daemon: its Control API, and sessions opened
 * on it. Close it (or `await using`) to release the connection.
 */
export class BuildkitClient implements AsyncDisposable {
  /** The daemon's Control API. */
  readonly control: ControlClient;

  /** Sessions opened through this client, by ID, so failures can be explained. */
  private readonly sessions = new Map<string, Session>();
  /** Sessions opened through this client whose connection has not ended yet. */
  private readonly live = new Set<Session>();
  /** The engine's `GET /info`, asked once per client (its image store and its identity). */
  private info?: Promise<EngineInfo>;
  /** Running solves, told when the daemon stops answering. */
  private readonly hangListeners = new Set<(error: BuildkitError) => void>();
  private livenessTimer: ReturnType<typeof setInterval> | undefined;
  private livenessCheck: Promise<void> | undefined;

  private constructor(
    private readonly channel: GrpcChannel,
    /** The candidate that answered. */
    readonly builder: BuilderCandidate,
    private sessionTransport: 'grpc' | 'docker',
    private readonly hangTimeoutMs: number = defaultHangTimeoutMs,
  ) {
    this.control = new ControlClient(channel);
  }

  /** The address this client talks to. */
  get address(): BuilderAddress {
    return this.channel.address;
  }

  /**
   * Resolve the builder and connect to the first candidate that answers
   * `ListWorkers`. If none does, the error lists every address tried and why.
   */
  static async connect(options: ConnectOptions = {}): Promise<BuildkitClient> {
    markPhase('connect: starts', { once: true });
    const candidates = builderCandidates(options.address, options.env ?? process.env, options.tls);
    const failures: Array<{ candidate: BuilderCandidate; error: unknown }> = [];
    for (const candidate of candidates) {
      options.signal?.throwIfAborted();
      let channel: GrpcChannel | undefined;
      try {
        await probeReachable(candidate.address, options.timeoutMs ?? 5_000, options.signal);
        channel = await openGrpcChannel(candidate.address);
        await new ControlClient(channel).listWorkers({ timeoutMs: options.timeoutMs ?? 5_000, signal: options.signal });
        const transport = candidate.address.kind === 'docker' ? (options.sessionTransport ?? 'docker') : 'grpc';
        markPhase('connect: ListWorkers answered', { once: true });
        return new BuildkitClient(channel, candidate, transport, options.hangTimeoutMs);
      } catch (error) {
        await channel?.close();
        if (options.signal?.aborted) throw BuildkitError.from(error, 'connecting to BuildKit');
        failures.push({ candidate, error });
      }
    }
    throw noBuilderError(failures);
  }

  /** The workers of the daemon. */
  listWorkers(options: { signal?: AbortSignal } = {}): Promise<WorkerInfo[]> {
    return this.control.listWorkers(options);
  }

  /**
   * The image store of the Docker engine this client builds on (`classic`
   * or `containerd`); undefined for a standalone buildkitd, which has none.
   * It decides how images are pushed and loaded (see build/output-plan.ts).
   */
  imageStore(options: { signal?: AbortSignal } = {}): Promise<'classic' | 'containerd' | undefined> {
    if (this.address.kind !== 'docker') return Promise.resolve(undefined);
    return this.engineInfo(options).then((info) => imageStoreOf(info!));
  }

  /**
   * What the Docker engine this client builds on says about itself (`GET
   * /info`), asked once per client; undefined for a standalone buildkitd.
   */
  engineInfo(options: { signal?: AbortSignal } = {}): Promise<EngineInfo | undefined> {
    const address = this.address;
    if (address.kind !== 'docker') return Promise.resolve(undefined);
    this.info ??= readEngineInfo(address.endpoint, options.signal).catch((err: unknown) => {
      this.info = undefined;
      throw err;
    });
    return this.info;
  }

  /** How many sessions opened through this client are still open (leak checks, diagnostics). */
  get openSessionCount(): number {
    return this.live.size;
  }

  /** How sessions opened through this client reach the daemon right now (see {@link ConnectOptions.sessionTransport}). */
  get transport(): 'grpc' | 'docker' {
    return this.sessionTransport;
  }

  /**
   * The dialer sessions of this client use. Over `/session`, an engine that
   * answers the upgrade with an HTTP status other than 101 (a proxy that
   * filters the Engine API, an engine without the endpoint) makes this
   * client use `Control/Session` from then on; a connection that fails is
   * a failure, as on the other transport.
   */
  sessionDialer(): SessionDialer {
    if (this.sessionTransport === 'docker' && this.address.kind === 'docker') {
      const docker = dockerSessionDialer(this.address.endpoint);
      return async (headers, signal) => {
        try {
          return await docker(headers, signal);
        } catch (err) {
          if (!(err instanceof BuildkitError && err.code === 'failed-precondition') || signal.aborted) throw err;
          this.sessionTransport = 'grpc';
          return controlSessionDialer(this.channel)(headers, signal);
        }
      };
    }
    return controlSessionDialer(this.channel);
  }

  /** Create and open a session on this daemon. The caller closes it. */
  async openSession(options: SessionOptions & { signal?: AbortSignal } = {}): Promise<Session> {
    const session = new Session(options);
    await session.open(this.sessionDialer(), { signal: options.signal });
    markPhase(`session opened (${options.name ?? 'unnamed'})`, { once: true });
    this.sessions.set(session.id, session);
    this.live.add(session);
    void session.done.then(() => {
      this.live.delete(session);
      setTimeout(() => this.sessions.delete(session.id), sessionMemoryMs).unref?.();
    });
    return session;
  }

  /**
   * Run one solve and follow its progress. Status is read concurrently (the
   * daemon only waits a few seconds for a job to appear) and drained after
   * the solve returns. Aborting cancels the build on the daemon.
   */
  async solve(request: Omit<SolveRequestInit, 'ref'> & { ref?: string }, options: SolveOptions = {}): Promise<SolveResponse> {
    const ref = request.ref ?? randomId();
    const statusAbort = new AbortController();
    let settled = false;
    const status = (async () => {
      for (;;) {
        try {
          for await (const update of this.control.status(ref, { signal: statusAbort.signal })) {
            markPhase('first Status received', { once: true });
            options.onStatus?.(update);
          }
          return;
        } catch (err) {
          // The daemon waits only ~6 s (3 s on 0.8) for the job to appear,
          // then says "no such job"; a loaded daemon can take longer to
          // register a solve. Ask again while the solve runs, or its progress
          // is lost. Otherwise progress is best effort: the solve's own result decides.
          if (settled || statusAbort.signal.aborted || !isNoSuchJob(err)) return;
          await new Promise((r) => setTimeout(r, statusRetryMs));
        }
      }
    })();
    let failed = false;
    markPhase('first Solve sent', { once: true });
    // The solve ends when the caller aborts it, or when the daemon stops answering.
    const solveAbort = new AbortController();
    const onAbort = () => solveAbort.abort(options.signal?.reason);
    if (options.signal?.aborted) onAbort();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    let hung: BuildkitError | undefined;
    const unwatch = this.watchLiveness((error) => {
      hung = error;
      solveAbort.abort(error);
    });
    try {
      return await this.control.solve({ ...request, ref }, { signal: solveAbort.signal }).finally(() => (settled = true));
    } catch (err) {
      failed = true;
      if (hung && !options.signal?.aborted) throw hung;
      throw options.signal?.aborted ? BuildkitError.from(err) : await this.explainSolveFailure(err, request.session);
    } finally {
      unwatch();
      options.signal?.removeEventListener('abort', onAbort);
      // After a failure the job may never have existed, and the daemon would
      // keep Status waiting for it; the progress of a failed step arrives fast.
      const timer = setTimeout(() => statusAbort.abort(), failed ? failedStatusDrainMs : statusDrainMs);
      if (options.signal?.aborted) statusAbort.abort();
      await status;
      clearTimeout(timer);
    }
  }

  /**
   * A lost session surfaces from the daemon as a bare transport error
   * ("transport is closing", "error reading server preface: EOF"); say what
   * actually happened when the solve's own session has ended.
   */
  private async explainSolveFailure(err: unknown, sessionId: string): Promise<BuildkitError> {
    const error = BuildkitError.from(err);
    // The connection itself went (daemon died or restarted, socket closed):
    // the session ended with it, but the connection is the news, and where it
    // went. The daemon also relays a lost session as UNAVAILABLE ("transport
    // is closing"), so ask the daemon whether it still answers.
    if (error.grpcCode === GrpcStatus.UNAVAILABLE && !(await this.answers())) {
      // grpc-js says "No connection established" when it could not even connect (again).
      const what = /No connection established/.test(error.message) ? 'cannot reach the builder at' : 'lost the connection to the builder at';
      const said = error.message.replace(/\.?\s*Resolution note:\s*$/, '');
      return new BuildkitError('unavailable', `${what} ${this.address.display} (${said})`, { cause: error, grpcCode: error.grpcCode });
    }
    const session = this.sessions.get(sessionId);
    // The daemon may report the failure a moment before our side sees the connection end.
    if (session?.isOpen) await Promise.race([session.done, new Promise((r) => setTimeout(r, sessionSettleMs))]);
    if (session && !session.isOpen) {
      return new BuildkitError('session-closed', `the build's session closed before the solve finished (daemon said: ${error.message})`, {
        cause: error,
        grpcCode: error.grpcCode,
      });
    }
    return error;
  }

  /**
   * Tell `onHang` when the daemon leaves a liveness question unanswered for
   * {@link ConnectOptions.hangTimeoutMs}; one question at a time for all
   * running solves. Returns the function that stops telling it.
   */
  private watchLiveness(onHang: (error: BuildkitError) => void): () => void {
    this.hangListeners.add(onHang);
    if (!this.livenessTimer) {
      this.livenessTimer = setInterval(() => {
        this.livenessCheck ??= this.checkLiveness().finally(() => (this.livenessCheck = undefined));
      }, Math.min(livenessIntervalMs, this.hangTimeoutMs / 4));
      this.livenessTimer.unref?.();
    }
    return () => {
      this.hangListeners.delete(onHang);
      if (this.hangListeners.size === 0 && this.livenessTimer) {
        clearInterval(this.livenessTimer);
        this.livenessTimer = undefined;
      }
    };
  }

  private async checkLiveness(): Promise<void> {
    try {
      await this.control.listWorkers({ timeoutMs: this.hangTimeoutMs });
    } catch (err) {
      // Only silence means a hang; a lost connection fails the solves by itself, with its own words.
      if (BuildkitError.from(err).code !== 'deadline-exceeded') return;
      const error = new BuildkitError(
        'deadline-exceeded',
        `the builder at ${this.address.display} stopped answering: no answer to ListWorkers within ${(this.hangTimeoutMs / 1000).toFixed(1)} s while the build ran (is the daemon stopped or stuck?)`,
        { cause: err },
      );
      for (const onHang of [...this.hangListeners]) onHang(error);
    }
  }

  /** Whether the daemon answers a cheap call right now. */
  private async answers(): Promise<boolean> {
    try {
      await this.control.listWorkers({ timeoutMs: reachableCheckMs });
      return true;
    } catch {
      return false;
    }
  }

  /** Close the connection (sessions opened on it should be closed first). */
  async close(): Promise<void> {
    if (this.livenessTimer) clearInterval(this.livenessTimer);
    this.livenessTimer = undefined;
    await this.channel.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

/** Status gave up waiting for the job to appear (NOT_FOUND on newer daemons, UNKNOWN on 0.8: go by the words). */
function isNoSuchJob(err: unknown): boolean {
  const e = BuildkitError.from(err);
  return /no such job|job not found|unknown job/i.test(e.message);
}
