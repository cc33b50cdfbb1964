import { readDockerignore } from '../buildkit/index';
import { dockerfileContextPaths, hasOnbuild } from '../dockerfile/context-paths';
import type { ImageTarget } from './image-target';
import type { LinkedRunPlan } from './links/plan-linked-run';
import { needsEscapeAnswer, type SessionInputs } from './plan-sessions';
import { planRun, type RunPlan } from './run-plan';

/**
 * The complete plan of a run on one builder. What the session plan needs
 * beyond the targets is found out first: the ignore files of the targets
 * sharing their context and the context paths their Dockerfiles read (where
 * the frontend does not read the context itself), and,
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
  const prepared = binding === 'frontend-inputs' || binding === 'prefetch';
  const ignores = prepared ? await readIgnores(linked.targets, signal) : undefined;
  const contextPaths = prepared ? contextPathsOf(linked.targets, linked.dockerfiles) : undefined;
  const inputs: SessionInputs = { binding, ...(ignores ? { ignores } : {}), ...(contextPaths ? { contextPaths } : {}) };
  const plan = planRun(linked.targets, linked.links, linked.plan.credentials, inputs);
  if (!needsEscapeAnswer(linked.targets, plan.targets, inputs)) return plan;
  return planRun(linked.targets, linked.links, linked.plan.credentials, { ...inputs, escapesFilterHeaders: await escapesFilterHeaders() });
}

/**
 * The context paths the Dockerfile of every target sharing its context reads,
 * from the texts read for the links (undefined: all of it, also when the
 * Dockerfile could not be read; the build then reports that itself). A
 * target built FROM an image of this run (directly or further down) whose
 * Dockerfile has `ONBUILD` reads all of it too: the triggers run in the
 * target's stage, with sources of their own.
 */
function contextPathsOf(targets: readonly ImageTarget[], dockerfiles: ReadonlyMap<string, string>): Map<string, string[] | undefined> {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const onbuildBelow = (t: ImageTarget, seen = new Set<string>()): boolean =>
    t.dependsOn.some((id) => {
      const dep = byId.get(id);
      if (!dep || seen.has(id)) return false;
      seen.add(id);
      return hasOnbuild(dockerfiles.get(id) ?? '') || onbuildBelow(dep, seen);
    });
  const paths = new Map<string, string[] | undefined>();
  for (const t of targets) {
    if (t.contextPolicy !== 'shared') continue;
    const text = dockerfiles.get(t.id);
    paths.set(t.id, text === undefined || onbuildBelow(t) ? undefined : dockerfileContextPaths(text));
  }
  return paths;
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
