import { bindingUnsupported, markPhase, type BindingMechanism } from '../buildkit/index';
import type { SharedSessions, SharedSessionReport } from './shared-sessions';

/** The run's binding and the shared sessions opened for it; replaced once if a remembered binding proves wrong. */
export interface Bound {
  mechanism: BindingMechanism | 'none';
  sessions: SharedSessions;
}

/**
 * The binding a run uses, with its shared sessions. A binding remembered
 * from an earlier run (see BuilderCapabilities) is trusted until a solve
 * fails the way an unsupported binding fails; then, once for the whole run,
 * the binding is probed again and, if it differs, the unfinished targets get
 * shared sessions for the new one and the failed attempts are made again. A
 * probed binding that fails that way is a real failure, reported as such.
 */
export class RunBinding implements AsyncDisposable {
  current: Bound;
  /** Targets done with their shared session. */
  readonly released = new Set<string>();
  private readonly all: SharedSessions[];
  private rebinding?: Promise<boolean>;

  constructor(
    mechanism: BindingMechanism | 'none',
    private readonly remembered: boolean,
    sessions: SharedSessions,
  ) {
    this.current = { mechanism, sessions };
    this.all = [sessions];
  }

  /**
   * Whether `err`, met by an attempt that used `used`, was the remembered
   * binding's fault and a new binding is now {@link current}. `reprobe`
   * gives the probed mechanism and the sessions for it (undefined when the
   * probe confirms the remembered answer).
   */
  rebound(used: Bound, err: unknown, reprobe: () => Promise<Bound | undefined>): Promise<boolean> {
    if (!this.remembered || used.mechanism === 'none' || !bindingUnsupported(err)) return Promise.resolve(false);
    if (this.current !== used) return Promise.resolve(true);
    this.rebinding ??= reprobe().then((next) => {
      if (!next) return false;
      markPhase(`engine: remembered binding ${used.mechanism} was wrong, probed ${next.mechanism}`);
      this.current = next;
      this.all.push(next.sessions);
      for (const id of this.released) void next.sessions.release(id);
      void used.sessions.close();
      return true;
    }, (reason: unknown) => {
      // A probe that failed (the daemon went away) is no answer: the next failed attempt asks again.
      this.rebinding = undefined;
      throw reason;
    });
    return this.rebinding;
  }

  async release(id: string): Promise<void> {
    this.released.add(id);
    await Promise.all(this.all.map((s) => s.release(id)));
  }

  report(): SharedSessionReport[] {
    return this.all.flatMap((s) => s.report());
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((s) => s.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}
