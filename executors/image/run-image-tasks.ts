import fs from 'node:fs/promises';
import path from 'node:path';
import { BuildkitClient, PlainProgress, type BuildResult } from '../../plugin/buildkit/index';
import { InvalidOptionsError, parseImageOptions } from '../../plugin/config/executor-options';
import { imageRepository, normalizeImageTask, type NormalizedImageTask } from '../../plugin/config/normalize-image-task';
import type { ImageExecutorOptions } from '../../plugin/config/executor-options';
import { expandTagTemplates, ociLabels, readGitInfo, readProjectMetadata, type GitInfo } from '../../plugin/metadata/index';
import { runTargets, type TargetOutcome } from '../../plugin/engine/run-engine';
import { formatPlan, planRun } from '../../plugin/engine/run-plan';
import { sourceDateEpoch } from '../../plugin/config/source-date-epoch';

/** One Nx task of the batch, as the executor receives it. */
export interface ImageTaskInput {
  /** Nx task id, e.g. `api:image`. */
  taskId: string;
  project: string;
  target: string;
  projectRoot: string;
  /** Raw options (project.json + inferred + command-line overrides). */
  options: unknown;
  /** Task ids of this batch it must wait for. */
  dependsOn: string[];
}

/** A finished task, reported to Nx. */
export interface ImageTaskResult {
  taskId: string;
  success: boolean;
  status: 'success' | 'failure' | 'skipped';
  terminalOutput: string;
  startTime?: number;
  endTime?: number;
}

/** What the run writes where. */
export interface RunContext {
  workspaceRoot: string;
  /** Where plain progress lines go (stdout of the executor process). */
  write: (line: string) => void;
  signal?: AbortSignal;
}

/**
 * Run a batch of image tasks in this process: validate every task's options
 * first (nothing starts if any is invalid), then one engine run with one
 * shared session, yielding each task's result as it finishes.
 */
export async function* runImageTasks(tasks: readonly ImageTaskInput[], ctx: RunContext): AsyncGenerator<ImageTaskResult> {
  const normalized = new Map<string, NormalizedImageTask>();
  const problems: string[] = [];
  const now = new Date();
  const git = await readGitInfo(ctx.workspaceRoot, { env: process.env, signal: ctx.signal });
  for (const t of tasks) {
    try {
      const options = parseImageOptions(t.options, { project: t.project, target: t.target });
      const resolved = await resolveNamesAndLabels(options, t, ctx.workspaceRoot, git, now);
      normalized.set(t.taskId, normalizeImageTask(options, { project: t.project, target: t.target, projectRoot: t.projectRoot, workspaceRoot: ctx.workspaceRoot }, t.dependsOn, resolved));
    } catch (err) {
      if (err instanceof InvalidOptionsError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length) {
    const message = `invalid options, nothing was built:\n${problems.join('\n')}`;
    ctx.write(message);
    for (const t of tasks) yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: message + '\n' };
    return;
  }
  const all = tasks.map((t) => normalized.get(t.taskId)!);
  const first = all[0]!.options;
  if (all.some((n) => n.options.print)) {
    const text = formatPlan(planRun(all.map((n) => n.target)));
    ctx.write(text);
    for (const t of tasks) yield { taskId: t.taskId, success: true, status: 'success', terminalOutput: text + '\n' };
    return;
  }

  const progress = new Map(all.map((n) => [n.target.id, new PlainProgress(n.target.spec.name, first.progress === 'quiet' ? () => {} : ctx.write)]));
  let client: BuildkitClient;
  try {
    client = await BuildkitClient.connect({ address: first.builder, signal: ctx.signal });
  } catch (err) {
    const message = `cannot reach a builder: ${(err as Error).message}`;
    ctx.write(message);
    for (const t of tasks) yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: message + '\n' };
    return;
  }
  await using _client = client;

  const finished: ImageTaskResult[] = [];
  let wake: () => void = () => {};
  const startTimes = new Map<string, number>();
  const byTargetId = new Map(all.map((n, i) => [n.target.id, { n, task: tasks[i]! }]));
  const run = runTargets(client, all.map((n) => n.target), {
    concurrency: first.concurrency,
    mode: first.failureMode,
    signal: ctx.signal,
    sharedKey: `nx-buildkit:${path.basename(ctx.workspaceRoot)}`.replace(/[^\x20-\x7e]/g, '_'),
    onEvent: (e) => {
      if (e.type === 'start') startTimes.set(e.id, Date.now());
      else if (e.type === 'status') progress.get(e.id)?.update(e.status);
      else if (e.type === 'retry') {
        const line = `retrying in ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt}): ${e.reason}`;
        const target = progress.get(e.id);
        if (target) target.note(line);
        else ctx.write(`nx-buildkit: ${line}`);
      }
      else if (e.type === 'end') {
        void (async () => {
          const { n, task } = byTargetId.get(e.outcome.id)!;
          finished.push(await finish(e.outcome, n, task, progress.get(n.target.id)!, startTimes.get(e.outcome.id)));
          wake();
        })();
      }
    },
  });
  let done = false;
  void run.then(
    (report) => {
      // One line per run: how the contexts were shared (the --verbose view of the counters).
      if (first.progress === 'quiet') return;
      const sent = report.sharedSessions.reduce((n, s) => n + s.transfer.bytesSent, 0);
      const calls = report.sharedSessions.reduce((n, s) => n + s.transfer.diffCopyCalls, 0);
      ctx.write(`nx-buildkit: ${report.outcomes.length} image(s) in one run, binding ${report.mechanism}, ${report.sharedSessions.length} shared session(s), ${calls} context transfer(s), ${sent} bytes sent`);
    },
    () => {},
  ).finally(() => {
    done = true;
    wake();
  });
  let yielded = 0;
  while (yielded < tasks.length) {
    if (finished.length > 0) {
      yielded++;
      yield finished.shift()!;
      continue;
    }
    if (done) {
      try {
        await run;
      } catch (err) {
        // Set-up failed before any task ran (e.g. the shared session could not open).
        const message = `the run failed: ${(err as Error).message}`;
        ctx.write(message);
        for (const t of tasks.slice(yielded)) yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: message + '\n' };
        return;
      }
      if (finished.length === 0) await new Promise((r) => setTimeout(r, 10));
      continue;
    }
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

/**
 * Expand the tag templates against git and the project's version, and add
 * the generated OCI labels (the labels given in options win). The created
 * time is the commit's, so an unchanged commit builds identical labels.
 */
async function resolveNamesAndLabels(options: ImageExecutorOptions, t: ImageTaskInput, workspaceRoot: string, git: GitInfo, now: Date) {
  const project = await readProjectMetadata(path.join(workspaceRoot, t.projectRoot));
  let imageNames: string[];
  try {
    imageNames = expandTagTemplates(options.tags, { git, ...(project.version ? { version: project.version } : {}), now, images: [imageRepository(options, t.project)] }).tags.map((tag) => tag.reference);
  } catch (err) {
    throw new InvalidOptionsError([`${t.project}:${t.target}: option "tags": ${(err as Error).message}`]);
  }
  const labels = options.ociLabels
    ? ociLabels({ git, project, projectName: t.project, tags: imageNames, now, created: 'commit', labels: options.labels })
    : options.labels;
  const epoch = sourceDateEpoch(options.buildArgs, process.env, git);
  return { imageNames, labels, ...(epoch ? { sourceDateEpoch: epoch.value } : {}) };
}

async function finish(outcome: TargetOutcome, n: NormalizedImageTask, task: ImageTaskInput, log: PlainProgress, startTime?: number): Promise<ImageTaskResult> {
  const endTime = Date.now();
  if (outcome.status === 'succeeded' && outcome.result) {
    await writeMetadata(n, outcome.result);
    log.note(`built ${n.imageNames.join(', ')}${outcome.result.digest ? ` (${outcome.result.digest})` : ''}; metadata: ${n.metadataFile}`);
    return { taskId: task.taskId, success: true, status: 'success', terminalOutput: terminalText(log), ...(startTime ? { startTime } : {}), endTime };
  }
  if (outcome.status === 'skipped') {
    log.note(`skipped: ${outcome.reason}`);
    return { taskId: task.taskId, success: false, status: 'skipped', terminalOutput: terminalText(log), endTime };
  }
  const error = 'error' in outcome ? outcome.error : undefined;
  log.note(`${outcome.status}: ${error instanceof Error ? error.message : String(error)}`);
  // A failed build leaves no metadata behind that could pass for a success.
  await fs.rm(n.metadataFile, { force: true });
  return { taskId: task.taskId, success: false, status: 'failure', terminalOutput: terminalText(log), ...(startTime ? { startTime } : {}), endTime };
}

/** A task's lines as Nx prints them after its header; the final newline keeps the next output off the last line. */
function terminalText(log: PlainProgress): string {
  return log.lines.length ? log.lines.join('\n') + '\n' : '';
}

/**
 * The per-target metadata file: buildx's keys plus what Nx users ask for.
 * Only what identifies the image goes here (dependants hash this file); how
 * the build went (cache hits, warnings) goes to build-report.json beside it.
 */
async function writeMetadata(n: NormalizedImageTask, result: BuildResult): Promise<void> {
  const metadata = {
    ...result.exporterResponse,
    'image.name': result.imageNames.length ? result.imageNames.join(',') : n.imageNames.join(','),
    project: n.target.spec.name,
    imageNames: n.imageNames,
    ...(result.digest ? { digest: result.digest } : {}),
    ...(result.configDigest ? { configDigest: result.configDigest } : {}),
    platforms: n.target.spec.platforms ?? [],
    pushed: n.options.push,
    // How the cache check (plugin/cache/) reaches the registry the image was pushed to.
    ...(n.options.push && n.options.insecureRegistry ? { insecureRegistry: true } : {}),
  };
  const report = { project: n.target.spec.name, steps: result.steps, cacheHit: result.steps.total > 0 && result.steps.cached === result.steps.total, warnings: result.warnings.map((w) => w.short), transfer: result.transfer };
  await writeJson(n.metadataFile, metadata);
  await writeJson(path.join(path.dirname(n.metadataFile), 'build-report.json'), report);
}

async function writeJson(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await fs.rename(tmp, file);
}
