import {
  BuildkitError, FileSyncProvider, State, marshal, refusePrivate,
  type BuildkitClient, type ContextSource, type Definition, type FileSyncCounters, type Session, type SyncedDir,
} from '../buildkit/index';
import type { PlannedLocal, PlannedSession, PlannedSource, RunPlan } from './run-plan';

/** What one shared session did during the run. */
export interface SharedSessionReport {
  /** Local names it served. */
  localNames: string[];
  /** Local names the daemon asked it for, over every time it was opened (sorted). */
  requested: string[];
  /** Times it was opened: 0 when no target needed it, 1 normally (see `reopened`). */
  opened: number;
  /** Summed over every time it was opened. */
  transfer: FileSyncCounters;
  /** Calls the daemon made, per method (health checks included). */
  calls: Record<string, number>;
  /** Times it was opened again after its connection was lost (0 normally). */
  reopened: number;
}

/** A target's hold on the shared session serving its context, for one attempt. */
export interface SharedLease {
  source: ContextSource;
  /** True when the session this attempt used ended without the run closing it. */
  lost(): boolean;
}

/** One opening of a shared session. */
interface Incarnation {
  session: Session;
  sync: FileSyncProvider;
  /** BuildKit ≤ 0.9: the shared locals solved once with this session as the solve's own. */
  prefetched?: Promise<void>;
}

interface Shared {
  dirs: Record<string, SyncedDir>;
  sharedKey: string;
  /** Targets that still need it; closed when the last one is done. */
  pending: Set<string>;
  /** How each target it serves reads its context from a given session ID. */
  sources: Map<string, (sessionId: string) => ContextSource>;
  /** Local sources to prefetch, for a given session ID. */
  prefetch: (sessionId: string) => Definition[];
  live?: Incarnation;
  opening?: Promise<Incarnation>;
  /** The run closed it (as opposed to losing it). */
  closed: boolean;
  opened: number;
  reopened: number;
  /** Counters of incarnations that ended. */
  past: { transfer: FileSyncCounters; calls: Map<string, number>; requested: Set<string> };
}

interface OpenOptions {
  sharedKey: string;
  /** The run's signal: a session or prefetch shared by many targets is not one target's to cancel. */
  signal?: AbortSignal;
}

/**
 * The run's shared sessions, as the plan has them (see plan-sessions.ts):
 * FileSync only (plus explicit refusals of secrets, SSH and auth), fresh
 * IDs every run. This side only opens, reopens and closes them.
 *
 * Each session closes when the last target using it is done; all close if
 * set-up fails. A session whose connection is lost while targets still need
 * it (the daemon restarted, a proxy cut the stream) is opened again, under a
 * new ID, by the next target that asks for it, so retried builds can succeed.
 */
export class SharedSessions implements AsyncDisposable {
  private readonly shared: Shared[] = [];
  private readonly byTarget = new Map<string, Shared>();

  private constructor(
    private readonly client: BuildkitClient,
    /** The plan whose sessions these are. */
    readonly plan: RunPlan,
    private readonly options: OpenOptions,
  ) {}

  /** BuildKit ≤ 0.9: the shared locals are solved once with the session as the solve's own. */
  private get prefetching(): boolean {
    return this.plan.binding === 'prefetch';
  }

  /**
   * The shared sessions of `plan`, and how every shared target reads its
   * context through them. Each session opens when the first target needs
   * it, so a daemon that is briefly unreachable fails (and retries)
   * targets, not the whole run.
   */
  static async open(client: BuildkitClient, plan: RunPlan, options: OpenOptions): Promise<SharedSessions> {
    const shared = new SharedSessions(client, plan, options);
    for (const planned of plan.sessions) shared.add(planned, options.sharedKey);
    for (const t of plan.targets) if (t.source) shared.byTarget.get(t.id)?.sources.set(t.id, sourceFrom(t.source));
    return shared;
  }

  /**
   * How `targetId` reads its context for the attempt about to start: its
   * own session for isolated targets; otherwise the shared session, opened
   * now if this is its first user or its connection was lost, and (BuildKit
   * ≤ 0.9) with its locals prefetched into the daemon's cache
   * (session-experiments E2).
   */
  async acquire(targetId: string, signal?: AbortSignal): Promise<SharedLease> {
    const s = this.byTarget.get(targetId);
    if (!s) return { source: { kind: 'own-session' }, lost: () => false };
    if (s.closed) throw new BuildkitError('failed-precondition', `${targetId}: the run's shared session is already closed`);
    const live = await abortable(this.ensureLive(s), signal);
    if (this.prefetching) {
      live.prefetched ??= this.runPrefetch(s, live).catch((err: unknown) => {
        live.prefetched = undefined;
        throw err;
      });
      await abortable(live.prefetched, signal);
    }
    return { source: s.sources.get(targetId)!(live.session.id), lost: () => !live.session.isOpen && !s.closed };
  }

  /** `targetId` is done with its shared session; close sessions nobody needs any more. */
  async release(targetId: string): Promise<void> {
    const s = this.byTarget.get(targetId);
    if (s?.pending.delete(targetId) && s.pending.size === 0) await this.closeShared(s);
  }

  /** Counters of every shared session. */
  report(): SharedSessionReport[] {
    return this.shared.map((s) => {
      const past = { transfer: { ...s.past.transfer }, calls: new Map(s.past.calls), requested: new Set(s.past.requested) };
      if (s.live) addCounters(past, s.live);
      return { localNames: Object.keys(s.dirs), requested: [...past.requested].sort(), opened: s.opened, transfer: past.transfer, calls: Object.fromEntries(past.calls), reopened: s.reopened };
    });
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.shared.map((s) => this.closeShared(s)));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** The open incarnation, or a new one when there is none yet or the last was lost; one opening at a time. */
  private ensureLive(s: Shared): Promise<Incarnation> {
    if (s.live?.session.isOpen) return Promise.resolve(s.live);
    s.opening ??= (async () => {
      try {
        const next = await this.openIncarnation(s);
        if (s.live) {
          this.retire(s, s.live);
          s.reopened++;
        }
        s.live = next;
        if (s.closed) await next.session.close();
        return next;
      } finally {
        s.opening = undefined;
      }
    })();
    return s.opening;
  }

  private async openIncarnation(s: Shared): Promise<Incarnation> {
    const sync = new FileSyncProvider(s.dirs);
    const session = await this.client.openSession({ attachables: [sync, refusePrivate], sharedKey: s.sharedKey, name: 'nx-buildkit-shared', signal: this.options.signal });
    s.opened++;
    return { session, sync };
  }

  /** Keep the counters of an incarnation that ended; it is already closed or lost. */
  private retire(s: Shared, old: Incarnation): void {
    addCounters(s.past, old);
    void old.session.close();
  }

  private async runPrefetch(s: Shared, live: Incarnation): Promise<void> {
    try {
      for (const definition of s.prefetch(live.session.id)) await this.client.solve({ session: live.session.id, definition }, { signal: this.options.signal });
    } catch (err) {
      const error = BuildkitError.from(err);
      if (!live.session.isOpen && !s.closed) {
        throw new BuildkitError('session-closed', `the run's shared session closed while sending the shared context to the builder (prefetch; daemon said: ${error.message})`, { cause: error, grpcCode: error.grpcCode });
      }
      throw BuildkitError.from(error, 'sending the shared context to the builder (prefetch)');
    }
  }

  private async closeShared(s: Shared): Promise<void> {
    s.closed = true;
    const opening = s.opening;
    if (opening) await opening.catch(() => undefined);
    await s.live?.session.close();
  }

  private add(planned: PlannedSession, sharedKey: string): void {
    const dirs: Record<string, SyncedDir> = Object.fromEntries(planned.dirs.map((d) => [d.localName, d.excludes ? { dir: d.dir, filter: { excludePatterns: [...d.excludes] } } : { dir: d.dir }]));
    const s: Shared = {
      dirs, sharedKey: `${sharedKey}${planned.sharedKeySuffix}`, pending: new Set(planned.users), sources: new Map(),
      prefetch: (sessionId) => planned.prefetch.map((l) => localDefinition(l, sessionId)),
      closed: false, opened: 0, reopened: 0, past: { transfer: { diffCopyCalls: 0, filesSent: 0, bytesSent: 0 }, calls: new Map(), requested: new Set() },
    };
    this.shared.push(s);
    for (const u of planned.users) this.byTarget.set(u, s);
  }
}

/** A planned local source, read from the shared session with this ID. */
function localDefinition(l: PlannedLocal, sessionId: string): Definition {
  return marshal(State.local(l.localName, {
    sessionId,
    ...(l.excludePatterns ? { excludePatterns: l.excludePatterns } : {}),
    ...(l.followPaths ? { followPaths: l.followPaths } : {}),
    sharedKeyHint: l.localName,
  }));
}

/** How a target reads its context from the shared session with a given ID, as planned. */
function sourceFrom(planned: PlannedSource): (sessionId: string) => ContextSource {
  if (planned.kind === 'local-sessionid') return (sessionId) => ({ kind: 'local-sessionid', sessionId, dockerfileLocal: planned.dockerfileLocal });
  return (sessionId) => {
    const context = localDefinition(planned.context, sessionId);
    const dockerfile = planned.dockerfile === 'context' ? context : localDefinition(planned.dockerfile, sessionId);
    return { kind: 'frontend-inputs', context, dockerfile, filename: planned.filename };
  };
}

function addCounters({ transfer, calls, requested }: Shared['past'], inc: Incarnation): void {
  for (const name of inc.sync.requested) requested.add(name);
  transfer.diffCopyCalls += inc.sync.counters.diffCopyCalls;
  transfer.filesSent += inc.sync.counters.filesSent;
  transfer.bytesSent += inc.sync.counters.bytesSent;
  for (const [method, n] of inc.session.calls) calls.set(method, (calls.get(method) ?? 0) + n);
}

/** Wait for `promise`, or stop waiting (without cancelling it: others may share it) when `signal` aborts. */
function abortable<T>(promise: Promise<T>, signal?: AbortSignal): Promise<T> {
  if (!signal) return promise;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new BuildkitError('cancelled', 'operation was aborted', { cause: signal.reason }));
    if (signal.aborted) return onAbort();
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
