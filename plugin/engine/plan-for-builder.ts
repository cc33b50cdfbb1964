import { readDockerignore } from '../buildkit/index';
import type { ImageTarget } from './image-target';
import type { LinkedRunPlan } from './links/plan-linked-run';
import { needsEscapeAnswer, type SessionInputs } from './plan-sessions';
import { planRun, type RunPlan } from './run-plan';

/**
 * The complete plan of a run on one builder. What the session plan needs
 * beyond the targets is found out first: the ignore files of the targets
 * sharing their context (where the frontend does not read them itself), and,
 * only when some filter is not printable ASCII, whether the daemon escapes
 * filter headers. Then {@link planRun} decides everything, without I/O; the
 * run opens what it says and `--print` shows it.
 */
export async function planForBuilder(
  linked: LinkedRunPlan,
  binding: SessionInputs['binding'],
  escapesFilterHeaders: () => Promise<boolean>,
  signal?: AbortSignal,
): Promise<RunPlan> {
  const ignores = binding === 'frontend-inputs' || binding === 'prefetch' ? await readIgnores(linked.targets, signal) : undefined;
  const inputs: SessionInputs = { binding, ...(ignores ? { ignores } : {}) };
  const plan = planRun(linked.targets, linked.links, linked.plan.credentials, inputs);
  if (!needsEscapeAnswer(linked.targets, plan.targets, inputs)) return plan;
  return planRun(linked.targets, linked.links, linked.plan.credentials, { ...inputs, escapesFilterHeaders: await escapesFilterHeaders() });
}

/** The ignore patterns of every target sharing its context (`<Dockerfile>.dockerignore` first, then `.dockerignore`). */
async function readIgnores(targets: readonly ImageTarget[], signal?: AbortSignal): Promise<Map<string, string[]>> {
  const ignores = new Map<string, string[]>();
  for (const t of targets) {
    if (t.contextPolicy !== 'shared') continue;
    ignores.set(t.id, (await readDockerignore(t.spec.contextDir, { dockerfile: t.spec.dockerfile, signal })).patterns);
  }
  return ignores;
}
