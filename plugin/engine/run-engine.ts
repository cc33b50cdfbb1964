import { createHash } from 'node:crypto';
import { buildImage, BuildkitError, type BuildkitClient, type BuildResult, type BuildSpec, type SolveStatus } from '../buildkit/index';
import { probeBinding, type BindingMechanism } from './binding-probe';
import type { ImageTarget } from './image-target';
import { planRun, type RunPlan } from './run-plan';
import { schedule, type FailureMode, type TaskOutcome } from './scheduler';
import { SharedSessions, type SharedSessionReport } from './shared-sessions';

/** How a multi-target run behaves. */
export interface RunOptions {
  /** Most solves at once on the daemon. */
  concurrency: number;
  mode: FailureMode;
  signal?: AbortSignal;
  /** Force a binding mechanism instead of probing the daemon (tests, diagnostics). */
  binding?: BindingMechanism;
  /** Stable, printable-ASCII key for the shared session, e.g. derived from the workspace; lets a long-lived daemon send only changes. */
  sharedKey?: string;
  onEvent?: (event: RunEvent) => void;
}

/** Progress of a run, per target. */
export type RunEvent =
  | { type: 'start'; id: string }
  | { type: 'status'; id: string; status: SolveStatus }
  | { type: 'end'; outcome: TargetOutcome };

/** A target's end, with its build result when it succeeded. */
export type TargetOutcome = TaskOutcome & { result?: BuildResult };

/** What a run did. */
export interface RunReport {
  mechanism: BindingMechanism | 'none';
  plan: RunPlan;
  outcomes: TargetOutcome[];
  sharedSessions: SharedSessionReport[];
}

/**
 * Build many targets against one daemon: plan, probe how locals can be
 * bound to a shared session, open the shared session(s), then schedule the
 * solves (dependency order, concurrency limit, fail-fast or keep-going),
 * each with an isolated session of its own for secrets, SSH, auth and
 * outputs. Every session is closed when no longer needed, and all of them
 * when the run is aborted or set-up fails.
 */
export async function runTargets(client: BuildkitClient, targets: readonly ImageTarget[], options: RunOptions): Promise<RunReport> {
  const plan = planRun(targets);
  const byId = new Map(targets.map((t) => [t.id, t]));
  const needsSharing = targets.some((t) => t.contextPolicy === 'shared');
  const mechanism = needsSharing ? (options.binding ?? (await probeBinding(client, options.signal))) : 'none';
  await using shared = await SharedSessions.open(client, plan, targets, mechanism === 'none' ? 'frontend-inputs' : mechanism, {
    sharedKey: options.sharedKey ?? 'nx-buildkit',
    signal: options.signal,
  });
  if (mechanism === 'prefetch') await shared.prefetch(client, options.signal);

  const results = new Map<string, BuildResult>();
  const outcomes = await schedule(
    plan.targets.map((t) => ({ id: t.id, dependsOn: t.dependsOn })),
    async (id, signal) => {
      try {
        const target = byId.get(id)!;
        const result = await buildImage(client, isolated(target), {
          contextSource: shared.sourceFor(id),
          signal,
          onStatus: (status) => options.onEvent?.({ type: 'status', id, status }),
        });
        results.set(id, result);
      } finally {
        await shared.release(id);
      }
    },
    {
      concurrency: options.concurrency,
      mode: options.mode,
      signal: options.signal,
      onStart: (id) => options.onEvent?.({ type: 'start', id }),
      onOutcome: (o) => options.onEvent?.({ type: 'end', outcome: withResult(o, results) }),
    },
  );
  return { mechanism, plan, outcomes: outcomes.map((o) => withResult(o, results)), sharedSessions: shared.report() };
}

function withResult(outcome: TaskOutcome, results: ReadonlyMap<string, BuildResult>): TargetOutcome {
  const result = results.get(outcome.id);
  return result ? { ...outcome, result } : outcome;
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
