import { createHash } from 'node:crypto';
import { BuilderCapabilities, buildImage, BuildkitError, escapesFilterHeaders, markPhase, type BindingMechanism, type BuildkitClient, type BuildResult, type BuildSpec, type SolveStatus } from '../buildkit/index';
import { CredentialGate } from './credentials/credential-gate';
import { conflictMap } from './credentials/credential-groups';
import type { ImageTarget } from './image-target';
import { ImageLinks, type LinkCleanup, type LinkReport } from './links/image-links';
import { newLinkRunId } from './links/link-reference';
import { planLinkedRun } from './links/plan-linked-run';
import { planForBuilder } from './plan-for-builder';
import { withDefaultOutputs } from './default-outputs';
import { EventQueue } from './event-queue';
import type { RunPlan } from './run-plan';
import { schedule, type FailureMode, type TaskOutcome } from './scheduler';
import { defaultRetryPolicy, withRetries, type RetryPolicy } from './retry';
import { SharedSessions, type SharedLease, type SharedSessionReport } from './shared-sessions';
import { RunBinding, type Bound } from './run-binding';

/** How a multi-target run behaves. */
export interface RunOptions {
  /** Most solves at once on the daemon. */
  concurrency: number;
  mode: FailureMode;
  signal?: AbortSignal;
  /** Force a binding mechanism instead of probing the daemon (tests, diagnostics). */
  binding?: BindingMechanism;
  /** What is known about the builder, one object per run; default: a fresh one, probed as needed. */
  capabilities?: BuilderCapabilities;
  /** Stable, printable-ASCII key for the shared session, e.g. derived from the workspace; lets a long-lived daemon send only changes. */
  sharedKey?: string;
  /**
   * Retries of builds that failed for reasons outside the build (see
   * retry.ts); default {@link defaultRetryPolicy}, `false` = never retry.
   */
  retries?: Partial<RetryPolicy> | false;
  onEvent?: (event: RunEvent) => void;
}

/** Progress of a run, per target. */
export type RunEvent =
  | { type: 'start'; id: string }
  | { type: 'status'; id: string; status: SolveStatus }
  /**
   * An attempt failed transiently; attempt number `attempt` starts after
   * `delayMs`. `id` is the target's, or {@link setUpId} for the run's own
   * first contact with the daemon (the binding probe).
   */
  | { type: 'retry'; id: string; attempt: number; delayMs: number; reason: string }
  | { type: 'end'; outcome: TargetOutcome };

/** The `id` of retry events about the run's set-up rather than a target. */
export const setUpId = '*';

/** A target's end, with its build result when it succeeded and how many attempts it took. */
export type TargetOutcome = TaskOutcome & { result?: BuildResult; attempts?: number };

/** What a run did. */
export interface RunReport {
  mechanism: BindingMechanism | 'none';
  plan: RunPlan;
  outcomes: TargetOutcome[];
  sharedSessions: SharedSessionReport[];
  /** How each image→image link was reached (see links/image-links.ts). */
  links: LinkReport[];
  /** The run's link names removed from the engine's image store at its end (and any that could not be). */
  linkCleanup: LinkCleanup;
  /**
   * Sessions of the client still open once the run had closed its own: 0
   * unless something else uses the client at the same time. Anything else
   * is a leaked session.
   */
  openSessionsAfter: number;
}

/** What {@link streamTargets} yields: the run's events as they happen, then its report. */
export type RunStreamItem = RunEvent | { type: 'report'; report: RunReport };

/**
 * {@link runTargets} as a stream: every event of the run in the order it
 * happened, then the report. A run whose set-up failed ends the stream with
 * its error, after the events before it.
 */
export async function* streamTargets(client: BuildkitClient, given: readonly ImageTarget[], options: Omit<RunOptions, 'onEvent'>): AsyncGenerator<RunStreamItem> {
  const queue = new EventQueue<RunStreamItem>();
  runTargets(client, given, { ...options, onEvent: (event) => queue.push(event) }).then(
    (report) => {
      queue.push({ type: 'report', report });
      queue.end();
    },
    (reason: unknown) => queue.end({ reason }),
  );
  yield* queue;
}

/**
 * Start asking the daemon what a run will ask it first (how locals bind to
 * a shared session, and the engine's image store), so that the answers are
 * ready, or nearly, when {@link runTargets} gets there (given the same
 * `capabilities` in its options): the caller can do its own set-up meanwhile.
 * Both answers are remembered (by `capabilities`, by the client); a failure is
 * forgotten, and the run meets it again with its retries.
 */
export function warmUp(client: BuildkitClient, capabilities: BuilderCapabilities, options: { sharing: boolean; signal?: AbortSignal }): void {
  if (options.sharing) capabilities.binding(options.signal).catch(() => {});
  if (client.address.kind === 'docker') client.imageStore({ signal: options.signal }).catch(() => {});
}

/**
 * Build many targets against one daemon: plan, probe how locals can be
 * bound to a shared session, open the shared session(s), then schedule the
 * solves (dependency order, concurrency limit, fail-fast or keep-going),
 * each with an isolated session of its own for secrets, SSH, auth and
 * outputs, retrying builds that failed for transient reasons. Every session
 * is closed when no longer needed, and all of them when the run is aborted
 * or set-up fails.
 */
export async function runTargets(client: BuildkitClient, given: readonly ImageTarget[], options: RunOptions): Promise<RunReport> {
  // A target built FROM another one's image waits for it and reads exactly its result (links/).
  const linked = await planLinkedRun(await withDefaultOutputs(given, client, options.signal));
  const { targets, links, dockerfiles } = linked;
  const needsSharing = targets.some((t) => t.contextPolicy === 'shared');
  const capabilities = options.capabilities ?? new BuilderCapabilities(client);
  const mechanism = needsSharing ? (options.binding ?? (await probeWithRetries(capabilities, retryPolicy(options), options))) : 'none';
  const remembered = needsSharing && !options.binding && capabilities.bindingSource === 'store';
  markPhase(`engine: binding ${remembered ? 'remembered' : 'probed'} (${mechanism})`);
  const planFor = (m: BindingMechanism | 'none') => planForBuilder(linked, m, () => escapesFilterHeaders(client, options.signal), options.signal);
  const plan = await planFor(mechanism);
  markPhase('engine: planned');
  const imageLinks = new ImageLinks(client, targets, links, dockerfiles, newLinkRunId(), capabilities);
  let report: Omit<RunReport, 'openSessionsAfter' | 'links' | 'linkCleanup'>;
  try {
    report = await runWithSharedSessions(client, targets, { mechanism, remembered, plan, planFor }, { ...options, capabilities }, imageLinks);
  } catch (err) {
    // The link names exist only for this run: removed on success, failure and abort alike.
    await imageLinks.cleanup();
    throw err;
  }
  const linkCleanup = await imageLinks.cleanup();
  return { ...report, links: imageLinks.report(), linkCleanup, openSessionsAfter: client.openSessionCount };
}

/** The run's binding as set-up found it, and how to plan for another (a remembered binding can prove wrong). */
interface InitialBinding {
  mechanism: BindingMechanism | 'none';
  remembered: boolean;
  plan: RunPlan;
  planFor: (mechanism: BindingMechanism | 'none') => Promise<RunPlan>;
}

async function runWithSharedSessions(
  client: BuildkitClient,
  targets: readonly ImageTarget[],
  binding: InitialBinding,
  options: RunOptions,
  links: ImageLinks,
): Promise<Omit<RunReport, 'openSessionsAfter' | 'links' | 'linkCleanup'>> {
  const { plan } = binding;
  const byId = new Map(targets.map((t) => [t.id, t]));
  const policy = retryPolicy(options);
  const open = (p: RunPlan) => SharedSessions.open(client, p, { sharedKey: options.sharedKey ?? 'nx-buildkit', signal: options.signal });
  await using shared = new RunBinding(binding.mechanism, binding.remembered, await open(plan));
  const reopen = async (m: BindingMechanism) => open(await binding.planFor(m));
  const results = new Map<string, BuildResult>();
  const attempts = new Map<string, number>();
  const gate = new CredentialGate(conflictMap(plan.credentials), new Set(plan.credentials.lenders));
  const outcomes = await schedule(
    plan.targets.map((t) => ({ id: t.id, dependsOn: t.dependsOn })),
    async (id, signal) => {
      const sessionsClosed: Promise<void>[] = [];
      try {
        const build = (sessions: SharedSessions) => buildOnce(client, sessions, links, byId.get(id)!, signal, options, gate, sessionsClosed);
        const result = await withRetries(
          (n) => {
            attempts.set(id, n);
            return withRebinding(shared, build, options, reopen);
          },
          { policy, signal, onRetry: (r) => options.onEvent?.({ type: 'retry', id, attempt: r.attempt, delayMs: r.delayMs, reason: r.reason }) },
        );
        results.set(id, result);
      } finally {
        await shared.release(id);
        // Targets with other credentials wait until this one's sessions are closed.
        void Promise.all(sessionsClosed).then(() => gate.leave(id));
      }
    },
    {
      concurrency: options.concurrency,
      mode: options.mode,
      signal: options.signal,
      gate,
      onStart: (id) => {
        gate.enter(id);
        options.onEvent?.({ type: 'start', id });
      },
      onOutcome: (o) => options.onEvent?.({ type: 'end', outcome: withResult(o, results, attempts) }),
    },
  );
  await gate.drain();
  await shared.close();
  const final = shared.current;
  return { mechanism: final.mechanism, plan: final.sessions.plan, outcomes: outcomes.map((o) => withResult(o, results, attempts)), sharedSessions: shared.report() };
}

/**
 * One attempt of a build with the run's current shared sessions; when a
 * remembered binding the daemon does not take failed it, the binding is
 * probed again (once for the run) and the attempt made again with the
 * sessions planned for the answer.
 */
async function withRebinding(shared: RunBinding, build: (sessions: SharedSessions) => Promise<BuildResult>, options: RunOptions, reopen: (m: BindingMechanism) => Promise<SharedSessions>): Promise<BuildResult> {
  const used = shared.current;
  try {
    return await build(used.sessions);
  } catch (err) {
    if (!(await shared.rebound(used, err, () => reprobe(used.mechanism, options, reopen)))) throw err;
    return build(shared.current.sessions);
  }
}

/** The binding probed anew after a remembered one failed a solve, with shared sessions planned for it; undefined when the probe gives the same answer. */
async function reprobe(before: BindingMechanism | 'none', options: RunOptions, reopen: (m: BindingMechanism) => Promise<SharedSessions>): Promise<Bound | undefined> {
  const mechanism = await options.capabilities!.reprobeBinding(options.signal);
  if (mechanism === before) return undefined;
  return { mechanism, sessions: await reopen(mechanism) };
}

function retryPolicy(options: RunOptions): RetryPolicy {
  return options.retries === false ? { ...defaultRetryPolicy, attempts: 0 } : { ...defaultRetryPolicy, ...options.retries };
}

/** The binding probe is the run's first contact with the daemon: a daemon that is restarting just then is waited for. */
function probeWithRetries(capabilities: BuilderCapabilities, policy: RetryPolicy, options: RunOptions): Promise<BindingMechanism> {
  return withRetries(() => capabilities.binding(options.signal), {
    policy,
    signal: options.signal,
    onRetry: (r) => options.onEvent?.({ type: 'retry', id: setUpId, attempt: r.attempt, delayMs: r.delayMs, reason: r.reason }),
  });
}

/** One attempt at one target: its shared context (reopened if it was lost), its own session, the solve. */
async function buildOnce(
  client: BuildkitClient,
  shared: SharedSessions,
  links: ImageLinks,
  target: ImageTarget,
  signal: AbortSignal,
  options: RunOptions,
  gate: CredentialGate,
  sessionsClosed: Promise<void>[],
): Promise<BuildResult> {
  let lease: SharedLease | undefined;
  try {
    const spec = await links.specFor(target, isolated(target), signal);
    lease = await shared.acquire(target.id, signal);
    const build = async (s: BuildSpec) => {
      const solveEnds = gate.solveStarts();
      let handedOver = false;
      try {
        return await buildImage(client, s, {
          contextSource: lease!.source,
          signal,
          ...(options.capabilities ? { capabilities: options.capabilities } : {}),
          onStatus: (status) => options.onEvent?.({ type: 'status', id: target.id, status }),
          // Another running solve may share a pull with this one and still ask this session for credentials.
          ...(gate.holdsSession(target.id)
            ? {
                holdSession: (close: () => Promise<void>) => {
                  handedOver = true;
                  sessionsClosed.push(solveEnds(close));
                },
              }
            : {}),
        });
      } finally {
        if (!handedOver) void solveEnds();
      }
    };
    const result = await build(spec);
    await links.ensureExported(target, spec, build, signal);
    return links.recordResult(target.id, result);
  } catch (err) {
    const error = BuildkitError.from(err).forTarget(target.spec.name);
    if (signal.aborted || !lease?.lost()) throw error;
    // A lost connection to the daemon is reported as such (naming the
    // builder); short of that, the shared session vanishing under the build
    // is what went wrong, whatever the daemon made of it (it may relay the
    // loss as UNAVAILABLE "transport is closing").
    if (error.code === 'unavailable' && !(await answers(client))) throw error;
    throw new BuildkitError('session-closed', `the run's shared session serving the build context closed before the build finished (daemon said: ${error.message})`, {
      cause: error,
      target: target.spec.name,
      grpcCode: error.grpcCode,
    });
  }
}

/** Whether the daemon answers a cheap call right now. */
async function answers(client: BuildkitClient): Promise<boolean> {
  try {
    await client.listWorkers({ signal: AbortSignal.timeout(2_000) });
    return true;
  } catch {
    return false;
  }
}

function withResult(outcome: TaskOutcome, results: ReadonlyMap<string, BuildResult>, attempts: ReadonlyMap<string, number>): TargetOutcome {
  const result = results.get(outcome.id);
  const n = attempts.get(outcome.id);
  return { ...outcome, ...(result ? { result } : {}), ...(n ? { attempts: n } : {}) };
}

/**
 * The daemon merges identical steps of concurrent builds and reuses cached
 * results across builds; secret values are not part of cache keys, so two
 * targets with the same Dockerfile could receive each other's secret
 * (session-experiments E4). A per-target /etc/hosts entry makes every RUN
 * step of a target that carries secrets or SSH differ from any other
 * target's. Its name derives from the target's identity and allowed ids,
 * never from secret values.
 */
function isolated(target: ImageTarget): BuildSpec {
  const spec = target.spec;
  const secretIds = (spec.secrets ?? []).map((s) => s.id).sort();
  const sshIds = (spec.ssh ?? []).map((s) => s.id ?? 'default').sort();
  if (secretIds.length === 0 && sshIds.length === 0) return spec;
  const marker = createHash('sha256').update(JSON.stringify([target.id, secretIds, sshIds])).digest('hex').slice(0, 16);
  const host = `nxbk-${marker}.isolation.invalid`;
  if (spec.extraHosts?.[host]) throw new BuildkitError('invalid-argument', `${target.id}: extra host ${host} is reserved`);
  return { ...spec, extraHosts: { ...spec.extraHosts, [host]: '127.0.0.1' } };
}
