import type { ExecutorContext, TaskGraph } from '@nx/devkit';

/** One yielded result (Nx's BatchExecutorTaskResult, not re-exported by @nx/devkit 24). */
interface BatchExecutorTaskResult {
  task: string;
  result: { success: boolean; terminalOutput: string; status?: 'success' | 'failure' | 'skipped'; startTime?: number; endTime?: number };
}
import { markPhase } from '../../plugin/buildkit/debug-timing';
import { runImageTasks, type ImageTaskInput } from './run-image-tasks';
import { uncoveredReads, type NxInput } from './input-coverage';

/**
 * Batch implementation of `nx-buildkit:image`: Nx hands every image task
 * of a `run-many`/`affected` run to this one process, so all of them share
 * one BuildKit session for their contexts. Results are yielded per task as
 * each finishes.
 */
export default async function* imageBatchExecutor(
  taskGraph: TaskGraph,
  inputs: Record<string, unknown>,
  overrides: Record<string, unknown>,
  context: ExecutorContext,
): AsyncGenerator<BatchExecutorTaskResult> {
  markPhase('executor: batch called');
  const ids = Object.keys(inputs);
  const tasks: ImageTaskInput[] = ids.map((taskId) => {
    const task = taskGraph.tasks[taskId]!;
    const project = task.target.project;
    const projectRoot = task.projectRoot ?? context.projectGraph?.nodes[project]?.data.root ?? '.';
    const options = withoutNxInternals({ ...(inputs[taskId] as object), ...overrides });
    const node = context.projectGraph?.nodes[project]?.data;
    return {
      taskId,
      project,
      target: task.target.target,
      projectRoot,
      options,
      ...withCoverage(coverageOf(project, task.target.target, projectRoot, options, node, context, task.cache)),
      // Nx 24: dependency edges are objects with an id; older Nx used strings.
      dependsOn: (taskGraph.dependencies[taskId] ?? [])
        .map((edge) => (typeof edge === 'string' ? edge : edge.id))
        .filter((dep) => ids.includes(dep)),
    };
  });
  const abort = new AbortController();
  const onSignal = () => abort.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    for await (const r of runImageTasks(tasks, { workspaceRoot: context.root, write: (line) => process.stdout.write(line + '\n'), signal: abort.signal })) {
      yield {
        task: r.taskId,
        result: {
          success: r.success,
          status: r.status,
          terminalOutput: r.terminalOutput,
          ...(r.startTime ? { startTime: r.startTime } : {}),
          ...(r.endTime ? { endTime: r.endTime } : {}),
        },
      };
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

/**
 * The guard's view of one task: what its build reads that the inputs Nx
 * hashed it with (the target configuration of the project graph, named
 * inputs expanded) miss. Without a project graph there is nothing to compare
 * with, and so no guard.
 */
export function coverageOf(
  project: string,
  target: string,
  projectRoot: string,
  options: Record<string, unknown>,
  node: { targets?: Record<string, { inputs?: unknown; cache?: boolean }>; namedInputs?: Record<string, unknown> } | undefined,
  context: ExecutorContext,
  cache: boolean | undefined,
): ImageTaskInput['coverage'] {
  const config = node?.targets?.[target];
  if (!config) return undefined;
  const namedInputs = { ...(context.nxJsonConfiguration?.namedInputs ?? {}), ...(node?.namedInputs ?? {}) } as Record<string, NxInput[]>;
  const uncovered = uncoveredReads({ project, target, projectRoot, options, inputs: config.inputs as NxInput[] | undefined, namedInputs });
  return { uncovered, cacheable: cache ?? config.cache === true };
}

function withCoverage(coverage: ImageTaskInput['coverage']): Pick<ImageTaskInput, 'coverage'> {
  return coverage ? { coverage } : {};
}

/** Nx adds its own entries to task options (`_` positionals, `__overrides_unparsed__`); they are not options. */
export function withoutNxInternals(options: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(options).filter(([key]) => key !== '_' && !key.startsWith('__')));
}
