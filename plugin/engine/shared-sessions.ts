import { createHash } from 'node:crypto';
import path from 'node:path';
import {
  BuildkitError, FileSyncProvider, State, escapesFilterHeaders, headerSafe, marshal, readDockerignore, refusePrivate,
  type BuildkitClient, type ContextSource, type Definition, type FileSyncCounters, type Session, type SyncedDir,
} from '../buildkit/index';
import type { BindingMechanism } from '../buildkit/index';
import type { ImageTarget } from './image-target';
import { localNameFor, type RunPlan } from './run-plan';

/** What one shared session did during the run. */
export interface SharedSessionReport {
  /** Local names it served. */
  localNames: string[];
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
  reopened: number;
  /** Counters of incarnations that ended. */
  past: { transfer: FileSyncCounters; calls: Map<string, number> };
}

interface OpenOptions {
  sharedKey: string;
  /** The run's signal: a session or prefetch shared by many targets is not one target's to cancel. */
  signal?: AbortSignal;
}

/**
 * The run's shared sessions: FileSync only (plus explicit refusals of
 * secrets, SSH and auth), fresh IDs every run. With `local-sessionid` the
 * frontend reads the main context under the fixed name `context`, so there
 * is one shared session per context directory; with LLB frontend inputs one
 * session serves every directory under its own name.
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
    readonly mechanism: BindingMechanism,
    private readonly options: OpenOptions,
  ) {}

  /**
   * Work out which shared sessions a plan needs and how every shared target
   * reads its context through them. Each session opens when the first target
   * needs it, so a daemon that is briefly unreachable fails (and retries)
   * targets, not the whole run.
   */
  static async open(client: BuildkitClient, plan: RunPlan, targets: readonly ImageTarget[], mechanism: BindingMechanism, options: OpenOptions): Promise<SharedSessions> {
    const shared = new SharedSessions(client, mechanism, options);
    try {
      const sharedTargets = targets.filter((t) => t.contextPolicy === 'shared');
      if (mechanism === 'local-sessionid') shared.planPerContext(sharedTargets, options.sharedKey);
      else await shared.planOne(plan, sharedTargets, options);
      return shared;
    } catch (err) {
      await shared.close();
      throw err;
    }
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
    if (this.mechanism === 'prefetch') {
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
      const transfer = { ...s.past.transfer };
      const calls = new Map(s.past.calls);
      if (s.live) addCounters(transfer, calls, s.live);
      return { localNames: Object.keys(s.dirs), transfer, calls: Object.fromEntries(calls), reopened: s.reopened };
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
    return { session, sync };
  }

  /** Keep the counters of an incarnation that ended; it is already closed or lost. */
  private retire(s: Shared, old: Incarnation): void {
    addCounters(s.past.transfer, s.past.calls, old);
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

  private add(dirs: Record<string, SyncedDir>, users: readonly string[], sharedKey: string): Shared {
    const s: Shared = {
      dirs, sharedKey, pending: new Set(users), sources: new Map(), prefetch: () => [],
      closed: false, reopened: 0, past: { transfer: { diffCopyCalls: 0, filesSent: 0, bytesSent: 0 }, calls: new Map() },
    };
    this.shared.push(s);
    for (const u of users) this.byTarget.set(u, s);
    return s;
  }

  private planPerContext(targets: readonly ImageTarget[], sharedKey: string): void {
    const byContext = new Map<string, ImageTarget[]>();
    for (const t of targets) {
      const key = path.resolve(t.spec.contextDir);
      byContext.set(key, [...(byContext.get(key) ?? []), t]);
    }
    for (const [contextDir, users] of byContext) {
      const dirs: Record<string, SyncedDir> = { context: { dir: contextDir } };
      for (const t of users) dirs[localNameFor('df', path.dirname(t.spec.dockerfile))] = { dir: path.dirname(t.spec.dockerfile) };
      // The frontend names every main context `context`: a key per directory
      // keeps the daemon's incremental snapshots of different contexts apart.
      const s = this.add(dirs, users.map((t) => t.id), `${sharedKey}:${localNameFor('ctx', contextDir)}`);
      for (const t of users) {
        const dockerfileLocal = localNameFor('df', path.dirname(t.spec.dockerfile));
        s.sources.set(t.id, (sessionId) => ({ kind: 'local-sessionid', sessionId, dockerfileLocal }));
      }
    }
  }

  /**
   * The local name a context is read under with these excludes. Usually the
   * directory's own name. BuildKit ≤ 0.9 (prefetch) keeps the prefetched
   * result of only the last local source of a name, so two targets reading
   * one directory with different ignore rules would send one of them to its
   * own session; and daemons before 0.12 cannot pass filter headers with
   * non-ASCII characters back to us (they send them raw, which the daemon's
   * or our gRPC refuses), so such excludes are left out of the local source.
   * There each set of excludes gets a name of its own, for the same
   * directory, whose excludes this side applies itself.
   */
  private localNameWithExcludes(s: Shared, contextDir: string, excludes: readonly string[]): string {
    const name = localNameFor('ctx', contextDir);
    if (excludes.length === 0 || (this.mechanism !== 'prefetch' && excludes.every((p) => /^[\x20-\x7e]*$/.test(p)))) return name;
    const variant = `${name}-x${createHash('sha256').update(JSON.stringify(excludes)).digest('hex').slice(0, 12)}`;
    s.dirs[variant] ??= { dir: path.resolve(contextDir), filter: { excludePatterns: [...excludes] } };
    return variant;
  }

  /** Whether these filters can go to the daemon as headers: printable ASCII, or a daemon that escapes them (asked only then). */
  private async passable(filters: readonly string[]): Promise<boolean> {
    if (headerSafe(filters)) return true;
    // Only BuildKit ≤ 0.9 needs the prefetch, and it passes filters raw.
    if (this.mechanism === 'prefetch') return false;
    return escapesFilterHeaders(this.client, this.options.signal);
  }

  private async planOne(plan: RunPlan, targets: readonly ImageTarget[], options: OpenOptions): Promise<void> {
    if (targets.length === 0) return;
    const dirs = Object.fromEntries(plan.sharedDirs.map((d) => [d.localName, { dir: d.dir }]));
    const s0 = this.add(dirs, targets.map((t) => t.id), options.sharedKey);
    const prefetch: Array<(sessionId: string) => Definition> = [];
    const seen = new Set<string>();
    for (const t of targets) {
      const assignment = plan.targets.find((a) => a.id === t.id)!;
      const dfName = localNameFor('df', path.dirname(t.spec.dockerfile));
      // No frontend applies .dockerignore to an input: the ignore rules become
      // the local source's excludes, so ignored files are not even sent.
      const ignore = await readDockerignore(t.spec.contextDir, { dockerfile: t.spec.dockerfile, signal: options.signal });
      const inside = assignment.dockerfile === assignment.context;
      const excludes = inside && ignore.patterns.length ? [...ignore.patterns, `!${assignment.dockerfileName}`] : ignore.patterns;
      const ctxName = this.localNameWithExcludes(s0, t.spec.contextDir, excludes);
      // A daemon before BuildKit 0.12 cannot pass non-ASCII filters back to
      // us: leave them out. Non-ASCII excludes always have a local name whose
      // excludes this side applies (localNameWithExcludes), and without
      // followpaths the whole Dockerfile directory is sent, from which the
      // frontend reads the Dockerfile by name: the same files either way.
      const headerExcludes = await this.passable(excludes) ? excludes : [];
      const followPaths = [assignment.dockerfileName, `${assignment.dockerfileName}.dockerignore`];
      const headerFollowPaths = await this.passable(followPaths) ? followPaths : [];
      const context = (sessionId: string) => marshal(State.local(ctxName, { sessionId, excludePatterns: headerExcludes, sharedKeyHint: ctxName }));
      const dockerfile = inside
        ? context
        : (sessionId: string) => marshal(State.local(dfName, { sessionId, followPaths: headerFollowPaths, sharedKeyHint: dfName }));
      s0.sources.set(t.id, (sessionId) => ({ kind: 'frontend-inputs', context: context(sessionId), dockerfile: dockerfile(sessionId), filename: assignment.dockerfileName }));
      // The same local source (name and options) needs prefetching once, whoever uses it.
      const wanted: Array<[string, (sessionId: string) => Definition]> = [[`ctx ${ctxName} ${JSON.stringify(excludes)}`, context]];
      if (!inside) wanted.push([`df ${dfName} ${assignment.dockerfileName}`, dockerfile]);
      for (const [key, def] of wanted) {
        if (seen.has(key)) continue;
        seen.add(key);
        prefetch.push(def);
      }
    }
    s0.prefetch = (sessionId) => prefetch.map((def) => def(sessionId));
  }
}

function addCounters(transfer: FileSyncCounters, calls: Map<string, number>, inc: Incarnation): void {
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
