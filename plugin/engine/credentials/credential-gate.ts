/**
 * Run-time side of the credential plan: which targets may start now, and
 * when a target's session may close.
 *
 * A target is active from the start of its build until its session has
 * closed, which can be after its solve ended: a solve that ends (succeeds,
 * fails, is cancelled) while another solve of the run is still running
 * keeps its session open until that other solve has ended too, because the
 * daemon may have merged a pull both needed and may still ask any session
 * of that pull for the registry's credentials. A target may start only
 * when no active target conflicts with it, so no session with other
 * credentials is open, let alone asked, while it builds.
 */
export class CredentialGate {
  private readonly active = new Map<string, number>();
  private readonly solving = new Set<Promise<void>>();
  private readonly holds = new Set<Promise<void>>();
  private readonly listeners = new Set<() => void>();

  /**
   * `conflicts`: for each target, the targets it must never overlap;
   * `lenders`: the targets whose sessions hand out credentials for a
   * registry they use (see credential-groups.ts).
   */
  constructor(
    private readonly conflicts: ReadonlyMap<string, ReadonlySet<string>>,
    private readonly lenders: ReadonlySet<string> = new Set(),
  ) {}

  /** Whether `id`'s session is kept open after its solve while others run (it may lend credentials to a shared pull). */
  holdsSession(id: string): boolean {
    return this.lenders.has(id);
  }

  /** Whether `id` may start now: no conflicting target is active. */
  canStart(id: string): boolean {
    const others = this.conflicts.get(id);
    if (!others) return true;
    for (const other of others) if (this.active.has(other)) return false;
    return true;
  }

  /** Called when anything that could block a start goes away; returns an unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The target's build starts (call before its session opens). */
  enter(id: string): void {
    this.active.set(id, (this.active.get(id) ?? 0) + 1);
  }

  /** The target's build is over (its session, if any, is closed). */
  leave(id: string): void {
    const n = (this.active.get(id) ?? 1) - 1;
    if (n > 0) this.active.set(id, n);
    else this.active.delete(id);
    for (const listener of this.listeners) listener();
  }

  /**
   * A solve starts; call the returned function when it has ended, with its
   * session's `close` if it had one. The session is closed once every solve
   * that was running at that moment has ended as well; the returned promise
   * settles when it is closed (never rejects).
   */
  solveStarts(): (close?: () => Promise<void>) => Promise<void> {
    let ended!: () => void;
    const done = new Promise<void>((resolve) => (ended = resolve));
    this.solving.add(done);
    return (close) => {
      this.solving.delete(done);
      ended();
      if (!close) return Promise.resolve();
      const hold: Promise<void> = Promise.all([...this.solving])
        .then(close)
        .catch(() => {})
        .finally(() => this.holds.delete(hold));
      this.holds.add(hold);
      return hold;
    };
  }

  /** Wait until every held session has closed (the run's end). */
  async drain(): Promise<void> {
    while (this.holds.size) await Promise.all([...this.holds]);
  }
}
