import type { ExecutorContext } from '@nx/devkit';
import { coverageOf, withoutNxInternals } from './batch-impl';
import { runImageTasks } from './run-image-tasks';

/**
 * Single-task implementation of `nx-buildkit:image` (`nx run app:image`, or
 * when batching is off): the same engine with a run of one.
 */
export default async function imageExecutor(options: Record<string, unknown>, context: ExecutorContext): Promise<{ success: boolean }> {
  const project = context.projectName!;
  const target = context.targetName!;
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    let success = true;
    const projectRoot = context.projectsConfigurations?.projects[project]?.root ?? '.';
    const own = withoutNxInternals(options);
    const node = context.projectsConfigurations?.projects[project];
    const coverage = coverageOf(project, target, projectRoot, own, node, context, undefined);
    const tasks = [{ taskId: `${project}:${target}`, project, target, projectRoot, options: own, dependsOn: [], ...(coverage ? { coverage } : {}) }];
    for await (const r of runImageTasks(tasks, { workspaceRoot: context.root, write: (line) => process.stdout.write(line + '\n'), signal: abort.signal })) {
      success &&= r.success;
    }
    return { success };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
