import path from 'node:path';
import {
  FileSyncProvider, State, marshal, readDockerignore, refusePrivate,
  type BuildkitClient, type ContextSource, type Definition, type FileSyncCounters, type Session, type SyncedDir,
} from '../buildkit/index';
import type { BindingMechanism } from './binding-probe';
import type { ImageTarget } from './image-target';
import { localNameFor, type RunPlan } from './run-plan';

/** What one shared session did during the run. */
export interface SharedSessionReport {
  /** Local names it served. */
  localNames: string[];
  transfer: FileSyncCounters;
  /** Calls the daemon made, per method (health checks included). */
  calls: Record<string, number>;
}

interface Shared {
  session: Session;
  sync: FileSyncProvider;
  localNames: string[];
  /** Targets that still need it; closed when the last one is done. */
  pending: Set<string>;
}

/**
 * The run's shared sessions: FileSync only (plus explicit refusals of
 * secrets, SSH and auth), fresh IDs every run. With `local-sessionid` the
 * frontend reads the main context under the fixed name `context`, so there
 * is one shared session per context directory; with LLB frontend inputs one
 * session serves every directory under its own name. Each session closes
 * when the last target using it is done; all close if set-up fails.
 */
export class SharedSessions implements AsyncDisposable {
  private readonly sessions: Shared[] = [];
  private readonly sources = new Map<string, ContextSource>();
  private readonly prefetchDefs = new Map<string, Definition>();

  private constructor(readonly mechanism: BindingMechanism) {}

  /** Open the sessions a plan needs and compute every shared target's context source. */
  static async open(
    client: BuildkitClient,
    plan: RunPlan,
    targets: readonly ImageTarget[],
    mechanism: BindingMechanism,
    options: { sharedKey: string; signal?: AbortSignal },
  ): Promise<SharedSessions> {
    const shared = new SharedSessions(mechanism);
    try {
      const sharedTargets = targets.filter((t) => t.contextPolicy === 'shared');
      if (mechanism === 'local-sessionid') await shared.openPerContext(client, sharedTargets, options);
      else await shared.openOne(client, plan, sharedTargets, options);
      return shared;
    } catch (err) {
      await shared.close();
      throw err;
    }
  }

  /** How `targetId` reads its context (own session for isolated targets). */
  sourceFor(targetId: string): ContextSource {
    return this.sources.get(targetId) ?? { kind: 'own-session' };
  }

  /**
   * BuildKit ≤ 0.9 ignores `local.session`: solve each shared local source
   * once with the shared session as the solve's own, so the targets' solves
   * find it in the cache (session-experiments E2).
   */
  async prefetch(client: BuildkitClient, signal?: AbortSignal): Promise<void> {
    const s0 = this.sessions[0];
    if (!s0) return;
    for (const definition of this.prefetchDefs.values()) await client.solve({ session: s0.session.id, definition }, { signal });
  }

  /** `targetId` is done with its shared session; close sessions nobody needs any more. */
  async release(targetId: string): Promise<void> {
    for (const s of this.sessions) {
      if (s.pending.delete(targetId) && s.pending.size === 0) await s.session.close();
    }
  }

  /** Counters of every shared session. */
  report(): SharedSessionReport[] {
    return this.sessions.map((s) => ({ localNames: s.localNames, transfer: { ...s.sync.counters }, calls: Object.fromEntries(s.session.calls) }));
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.sessions.map((s) => s.session.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async add(client: BuildkitClient, dirs: Record<string, SyncedDir>, users: Iterable<string>, options: { sharedKey: string; signal?: AbortSignal }): Promise<Shared> {
    const sync = new FileSyncProvider(dirs);
    const session = await client.openSession({ attachables: [sync, refusePrivate], sharedKey: options.sharedKey, name: 'nx-buildkit-shared', signal: options.signal });
    const entry: Shared = { session, sync, localNames: Object.keys(dirs), pending: new Set(users) };
    this.sessions.push(entry);
    return entry;
  }

  private async openPerContext(client: BuildkitClient, targets: readonly ImageTarget[], options: { sharedKey: string; signal?: AbortSignal }): Promise<void> {
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
      const s = await this.add(client, dirs, users.map((t) => t.id), { ...options, sharedKey: `${options.sharedKey}:${localNameFor('ctx', contextDir)}` });
      for (const t of users) {
        this.sources.set(t.id, { kind: 'local-sessionid', sessionId: s.session.id, dockerfileLocal: localNameFor('df', path.dirname(t.spec.dockerfile)) });
      }
    }
  }

  private async openOne(client: BuildkitClient, plan: RunPlan, targets: readonly ImageTarget[], options: { sharedKey: string; signal?: AbortSignal }): Promise<void> {
    if (targets.length === 0) return;
    const dirs = Object.fromEntries(plan.sharedDirs.map((d) => [d.localName, { dir: d.dir }]));
    const s0 = await this.add(client, dirs, targets.map((t) => t.id), options);
    for (const t of targets) {
      const assignment = plan.targets.find((a) => a.id === t.id)!;
      const ctxName = localNameFor('ctx', t.spec.contextDir);
      // No frontend applies .dockerignore to an input: the ignore rules become
      // the local source's excludes, so ignored files are not even sent.
      const ignore = await readDockerignore(t.spec.contextDir, { dockerfile: t.spec.dockerfile, signal: options.signal });
      const inside = assignment.dockerfile === assignment.context;
      const excludes = inside && ignore.patterns.length ? [...ignore.patterns, `!${assignment.dockerfileName}`] : ignore.patterns;
      const context = marshal(State.local(ctxName, { sessionId: s0.session.id, excludePatterns: excludes, sharedKeyHint: ctxName }));
      const dockerfile = inside
        ? context
        : marshal(State.local(localNameFor('df', path.dirname(t.spec.dockerfile)), {
          sessionId: s0.session.id,
          followPaths: [assignment.dockerfileName, `${assignment.dockerfileName}.dockerignore`],
          sharedKeyHint: localNameFor('df', path.dirname(t.spec.dockerfile)),
        }));
      this.sources.set(t.id, { kind: 'frontend-inputs', context, dockerfile, filename: assignment.dockerfileName });
      for (const def of inside ? [context] : [context, dockerfile]) this.prefetchDefs.set(defKey(def), def);
    }
  }
}

function defKey(def: Definition): string {
  return def.def.map((d) => Buffer.from(d).toString('base64')).join('|');
}
