import fs from 'node:fs/promises';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { describeError, markPhase, redact, redactDeep, type BuilderCapabilities, type BuildkitClient, type BuildResult, type DockerEndpoint } from '../../plugin/buildkit/index';
import { BuilderConnection } from './builder-connection';
import { writeBakeMetadata, type BakeMetadataEntry } from './bake-metadata';
import { RunDisplay, type OutputStream, type TargetProgress } from './progress-display';
import { chooseProgressTerminal, openControllingTerminal } from './progress-terminal';
import { runLevelOptionProblems } from './run-level-options';
import { InvalidOptionsError, parseImageOptions } from '../../plugin/config/executor-options';
import { imageRepository, normalizeImageTask, type NormalizedImageTask } from './normalize-image-task';
import type { ImageExecutorOptions } from '../../plugin/config/executor-options';
import { ciRefFromEnv, expandTagTemplates, ociLabels, readGitInfo, readProjectMetadata, type GitInfo } from '../../plugin/metadata/index';
import { streamTargets, warmUp, type RunReport, type RunStreamItem, type TargetOutcome } from '../../plugin/engine/run-engine';
import { printedPlan } from './print-plan';
import { workspaceCapabilities } from '../../plugin/engine/capability-file';
import { sourceDateEpoch } from '../../plugin/config/source-date-epoch';
import { checkContextPaths } from './check-context-paths';
import { checkBuilderOptions } from '../../plugin/config/check-builder-options';
import { failedTaskLog } from './task-log';
import { writeJsonFile } from './write-json-file';

/** What a target without push, load or outputs is told on a builder that has no image store. */
export const noOutputWarning = 'no output specified: the result stays in the build cache (set "push", "load" or "outputs" to use the image)';

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
  /**
   * What the task's build reads that its Nx inputs miss (see input-coverage.ts),
   * and whether Nx will store the task's result in its cache.
   */
  coverage?: { uncovered: readonly string[]; cacheable: boolean };
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
  /** The terminal `tty` progress draws on, and whose isTTY `auto` asks (default: process.stdout). */
  stream?: OutputStream;
  signal?: AbortSignal;
}

/**
 * Run a batch of image tasks in this process: validate every task's options
 * first (an invalid task and the tasks that depend on it are not built; the
 * others are), then one engine run with one shared session, yielding each
 * task's result as it finishes.
 */
export async function* runImageTasks(tasks: readonly ImageTaskInput[], ctx: RunContext): AsyncGenerator<ImageTaskResult> {
  // The last line of defence for secrets: whatever path a message took, what
  // reaches stdout and the Nx task logs is scrubbed of every registered value.
  const write = (line: string) => ctx.write(redact(line));
  for await (const r of runTasks(tasks, { ...ctx, write })) yield { ...r, terminalOutput: redact(r.terminalOutput) };
}

async function* runTasks(allTasks: readonly ImageTaskInput[], ctx: RunContext): AsyncGenerator<ImageTaskResult> {
  markPhase('run: tasks received');
  // Git is read while the options are parsed and the builder is connected to.
  const gitReading = readGitInfo(ctx.workspaceRoot, { env: process.env, signal: ctx.signal });
  gitReading.catch(() => {});
  const problems = new Map<string, readonly string[]>();
  const parsed = parseAll(allTasks, ctx.workspaceRoot, problems);
  await using connection = connectEarly(parsed, ctx);
  const git = await gitReading;
  markPhase('run: git info read');
  const normalized = await normalizeAll(allTasks, parsed, problems, ctx, git);
  // Nx's convention is a result per task: an invalid task fails with its own
  // problems, the tasks that depend on it are not built, and the rest of the
  // run builds. Each message goes to exactly one task's log, which Nx prints
  // under that task: written to stdout as well, it would appear twice.
  const blocked = new Map(allTasks.filter((t) => !problems.has(t.taskId)).map((t) => [t.taskId, blockedBy(t, allTasks, problems)] as const).filter(([, by]) => by.length));
  for (const t of allTasks) {
    const own = problems.get(t.taskId);
    if (own) {
      const why = normalized.notCacheSafe.has(t.taskId)
        ? 'nx-buildkit: NOT CACHE-SAFE, not built: the result would be stored in the Nx cache under inputs that miss what the build reads (set "cache": false on the target to build it uncached)'
        : 'invalid options, not built';
      yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: `${why}:\n${own.join('\n')}\n` };
    }
    const by = blocked.get(t.taskId);
    if (by) yield { taskId: t.taskId, success: false, status: 'skipped', terminalOutput: `not built: it depends on ${by.join(', ')}, which is not built (invalid options or not cache-safe)\n` };
  }
  const tasks = allTasks.filter((t) => !problems.has(t.taskId) && !blocked.has(t.taskId));
  if (!tasks.length) return;
  // Options that must agree across the run (one builder, one bake file…): no task can be singled out, so none is built.
  const runProblems = runLevelOptionProblems(tasks.map((t) => ({ taskId: t.taskId, project: t.project, target: t.target, options: normalized.tasks.get(t.taskId)!.options })));
  if (runProblems.size) {
    const invalid = [...runProblems.keys()];
    for (const t of tasks) {
      const own = runProblems.get(t.taskId);
      const message = own
        ? `invalid options, nothing was built:\n${own.join('\n')}`
        : `not built: invalid options of ${invalid.join(', ')}, nothing was built`;
      yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: message + '\n' };
    }
    return;
  }
  const all = tasks.map((t) => normalized.tasks.get(t.taskId)!);
  if (all.some((n) => n.options.print)) {
    const text = await printedPlan(all.map((n) => n.target), all[0]!.options, ctx);
    ctx.write(text);
    for (const t of tasks) yield { taskId: t.taskId, success: true, status: 'success', terminalOutput: text + '\n' };
    return;
  }
  markPhase('run: options normalized');
  yield* buildAll(tasks, all, connection, ctx);
}

type ParsedTask = { options: ImageExecutorOptions };

/**
 * One capabilities object per client: what the early probes learned is what
 * the run uses. Probed answers are kept in the workspace for later runs on
 * the same builder (see capability-file.ts).
 */
const capabilitiesByClient = new WeakMap<BuildkitClient, BuilderCapabilities>();
function capabilitiesOf(client: BuildkitClient, workspaceRoot: string): BuilderCapabilities {
  let capabilities = capabilitiesByClient.get(client);
  if (!capabilities) capabilitiesByClient.set(client, (capabilities = workspaceCapabilities(client, workspaceRoot)));
  return capabilities;
}

/** Every task's options, parsed and checked; the invalid ones go to `problems`. */
function parseAll(allTasks: readonly ImageTaskInput[], workspaceRoot: string, problems: Map<string, readonly string[]>): Map<string, ParsedTask> {
  const parsed = new Map<string, ParsedTask>();
  for (const t of allTasks) {
    try {
      const options = parseImageOptions(t.options, { project: t.project, target: t.target });
      const builderProblems = checkBuilderOptions(options, t, workspaceRoot);
      if (builderProblems.length) throw new InvalidOptionsError(builderProblems);
      parsed.set(t.taskId, { options });
    } catch (err) {
      if (err instanceof InvalidOptionsError) problems.set(t.taskId, err.problems);
      else throw err;
    }
  }
  return parsed;
}

/**
 * Connect to the first valid task's builder now, and start what the engine
 * asks the daemon first, while the run is still being normalized. Not for
 * `--print`, which contacts no daemon.
 */
function connectEarly(parsed: ReadonlyMap<string, ParsedTask>, ctx: RunContext): BuilderConnection {
  const options = [...parsed.values()].map((p) => p.options);
  const first = options.some((o) => o.print) ? undefined : options[0];
  const sharing = options.some((o) => o.sessionPolicy.context === 'shared');
  return BuilderConnection.start(first, ctx.workspaceRoot, ctx.signal, (client) => warmUp(client, capabilitiesOf(client, ctx.workspaceRoot), { sharing, signal: ctx.signal }));
}

/**
 * Image names, labels and the normalized task of every parsed task. First
 * every task's names, so that a `target:` named context can name the image
 * of any task of the run. The guard of the Nx cache: a result Nx would store
 * under inputs that miss what the build reads is a stale image waiting to be
 * replayed. Failing the task is the one way to keep a result out of the Nx
 * cache (Nx stores every success of a cacheable task); an uncached task only
 * gets the warning.
 */
async function normalizeAll(allTasks: readonly ImageTaskInput[], parsed: ReadonlyMap<string, ParsedTask>, problems: Map<string, readonly string[]>, ctx: RunContext, git: GitInfo) {
  const now = new Date();
  const resolved = new Map<string, Awaited<ReturnType<typeof resolveNamesAndLabels>>>();
  for (const t of allTasks) {
    const entry = parsed.get(t.taskId);
    if (!entry) continue;
    try {
      resolved.set(t.taskId, await resolveNamesAndLabels(entry.options, t, ctx.workspaceRoot, git, now));
    } catch (err) {
      if (err instanceof InvalidOptionsError) problems.set(t.taskId, err.problems);
      else throw err;
    }
  }
  const notCacheSafe = new Set<string>();
  for (const t of allTasks) {
    if (!t.coverage?.uncovered.length) continue;
    if (t.coverage.cacheable) {
      notCacheSafe.add(t.taskId);
      problems.set(t.taskId, [...(problems.get(t.taskId) ?? []), ...t.coverage.uncovered]);
    } else {
      for (const line of t.coverage.uncovered) ctx.write(`nx-buildkit: WARNING (target not cached, so built anyway): ${line}`);
    }
  }
  const imageOfTask = (name: string): string | undefined => {
    const matching = allTasks.filter((t) => t.taskId === name || (!name.includes(':') && t.project === name));
    return matching.length === 1 ? resolved.get(matching[0]!.taskId)?.imageNames[0] : undefined;
  };
  const tasks = new Map<string, NormalizedImageTask>();
  for (const t of allTasks) {
    const options = parsed.get(t.taskId)?.options;
    const names = resolved.get(t.taskId);
    // A task waiting on an invalid one is not built either; its `target:` contexts would name no image.
    // One the cache guard stopped is still checked: a path outside the workspace is the problem to name
    // (it replaces the guard's message, whose suggested input could not name such a path anyway).
    const invalid = problems.has(t.taskId) && !notCacheSafe.has(t.taskId);
    if (!options || !names || invalid || blockedBy(t, allTasks, problems).length) continue;
    try {
      const task = normalizeImageTask(options, { project: t.project, target: t.target, projectRoot: t.projectRoot, workspaceRoot: ctx.workspaceRoot }, t.dependsOn, { ...names, imageOfTask });
      const outside = checkContextPaths(task, { project: t.project, target: t.target, workspaceRoot: ctx.workspaceRoot });
      if (outside.length) throw new InvalidOptionsError(outside);
      tasks.set(t.taskId, task);
    } catch (err) {
      if (err instanceof InvalidOptionsError) problems.set(t.taskId, err.problems);
      else throw err;
    }
  }
  return { tasks, notCacheSafe };
}

/** One engine run of the valid tasks, with one shared session, yielding each task's result as it finishes. */
async function* buildAll(tasks: readonly ImageTaskInput[], all: readonly NormalizedImageTask[], connection: BuilderConnection, ctx: RunContext): AsyncGenerator<ImageTaskResult> {
  const first = all[0]!.options;
  using view = await openRunView(all, first.progress, ctx);
  let client: BuildkitClient;
  try {
    client = await connection.take(first, ctx.workspaceRoot, ctx.signal);
  } catch (err) {
    // Every task fails with it, each in its own log (see the invalid options above).
    const message = `cannot reach a builder: ${(err as Error).message}`;
    for (const t of tasks) yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: message + '\n' };
    return;
  }
  await using _client = client;
  const run: RunState = {
    tasks,
    view,
    byTargetId: new Map(all.map((n, i) => [n.target.id, { n, task: tasks[i]! }])),
    pending: new Set(tasks.map((t) => t.taskId)),
    held: [],
    startTimes: new Map(),
    built: [],
    bakeMetadataFile: first.bakeMetadataFile ? path.resolve(ctx.workspaceRoot, first.bakeMetadataFile) : undefined,
    // Where `load` puts images on a Docker engine builder: the engine the cache check asks on later runs
    // (an endpoint, never credentials). A buildkitd's load names its engine in the build result.
    loadedInto: client.address.kind === 'docker' ? client.address.endpoint : undefined,
  };
  yield* reportEvents(streamTargets(client, all.map((n) => n.target), {
    capabilities: capabilitiesOf(client, ctx.workspaceRoot),
    concurrency: first.concurrency,
    mode: first.failureMode,
    signal: ctx.signal,
    sharedKey: `nx-buildkit:${path.basename(ctx.workspaceRoot)}`.replace(/[^\x20-\x7e]/g, '_'),
  }), run);
}

/** Where the run's progress is drawn: the terminal chosen for it, and one progress view per target. */
interface RunView extends Disposable {
  terminal: ReturnType<typeof chooseProgressTerminal>;
  display: RunDisplay;
  progress: ReadonlyMap<string, TargetProgress>;
}

async function openRunView(all: readonly NormalizedImageTask[], progressOption: ImageExecutorOptions['progress'], ctx: RunContext): Promise<RunView> {
  // A stream given by the caller decides alone; the executor's own stdout may give way to the controlling terminal.
  const terminal = ctx.stream
    ? chooseProgressTerminal(progressOption, ctx.stream, process.env)
    : chooseProgressTerminal(progressOption, process.stdout, process.env, openControllingTerminal);
  if (terminal.plainBecause && process.env.NX_VERBOSE_LOGGING === 'true') ctx.write(`nx-buildkit: plain progress (progress: ${progressOption}): ${terminal.plainBecause}`);
  let display: RunDisplay;
  try {
    display = await RunDisplay.open(terminal.mode, all.map((n) => n.target.spec.name), { write: ctx.write, stream: terminal.stream });
  } catch (err) {
    terminal.close();
    throw err;
  }
  const progress = new Map(all.map((n) => [n.target.id, display.target(n.target.spec.name)]));
  return {
    terminal,
    display,
    progress,
    [Symbol.dispose]: () => {
      display.close();
      terminal.close();
    },
  };
}

/** What the run's events are reported against, as they come. */
interface RunState {
  tasks: readonly ImageTaskInput[];
  view: RunView;
  byTargetId: ReadonlyMap<string, { n: NormalizedImageTask; task: ImageTaskInput }>;
  /** Task ids without a result yet. */
  pending: Set<string>;
  /** Results waiting for the last one (on the controlling terminal). */
  held: ImageTaskResult[];
  startTimes: Map<string, number>;
  built: BakeMetadataEntry[];
  bakeMetadataFile: string | undefined;
  loadedInto: DockerEndpoint | undefined;
}

/** Each task's result from the run's events, as it finishes; a run whose set-up failed fails the tasks without one. */
async function* reportEvents(events: AsyncIterable<RunStreamItem>, run: RunState): AsyncGenerator<ImageTaskResult> {
  try {
    for await (const e of events) {
      if (e.type === 'end') yield* endTarget(e.outcome, run);
      else noteEvent(e, run);
    }
  } catch (err) {
    // Set-up failed before any task ran (e.g. the shared session could not open).
    const message = `the run failed: ${(err as Error).message}`;
    await writeAggregate(run);
    if (run.view.terminal.controlling) run.view.display.close();
    yield* run.held.splice(0);
    for (const t of run.tasks) if (run.pending.has(t.taskId)) yield { taskId: t.taskId, success: false, status: 'failure', terminalOutput: message + '\n' };
  }
}

/** The run's one aggregated file, written once every result is in (before the last is handed to Nx). */
async function writeAggregate(run: RunState): Promise<void> {
  if (run.bakeMetadataFile) await writeBakeMetadata(run.bakeMetadataFile, run.built);
}

/** A target's end: its result, at once, or on the controlling terminal once the last one is in. */
async function* endTarget(outcome: TargetOutcome, run: RunState): AsyncGenerator<ImageTaskResult> {
  const { n, task } = run.byTargetId.get(outcome.id)!;
  const result = await finish(outcome, n, task, run.view.progress.get(n.target.id)!, run.startTimes.get(outcome.id), run.built, run.loadedInto);
  run.pending.delete(task.taskId);
  if (run.pending.size === 0) await writeAggregate(run);
  // On the controlling terminal the results wait for the last one; the view closes before Nx prints any log.
  if (!run.view.terminal.controlling) {
    yield result;
    return;
  }
  run.held.push(result);
  if (run.pending.size === 0) {
    run.view.display.close();
    yield* run.held.splice(0);
  }
}

/** Every event but a target's end: progress, retries, the run's summary. */
function noteEvent(e: Exclude<RunStreamItem, { type: 'end' }>, run: RunState): void {
  const { display, progress } = run.view;
  if (e.type === 'start') {
    run.startTimes.set(e.id, Date.now());
    // The metadata of an earlier build must not outlive this one's start:
    // if this build is interrupted (Ctrl-C, SIGTERM, the worker killed),
    // no file may still describe a success for the target.
    rmSync(run.byTargetId.get(e.id)!.n.metadataFile, { force: true });
  } else if (e.type === 'status') progress.get(e.id)?.update(e.status);
  else if (e.type === 'retry') {
    const line = `retrying in ${(e.delayMs / 1000).toFixed(1)}s (attempt ${e.attempt}): ${e.reason}`;
    const target = progress.get(e.id);
    if (target) target.note(line);
    else display.message(`nx-buildkit: ${line}`);
  } else noteReport(e.report, display);
}

/** One line per run: how the contexts were shared (the --verbose view of the counters); with --verbose, a line per shared session. */
function noteReport(report: RunReport, display: RunDisplay): void {
  const sent = report.sharedSessions.reduce((n, s) => n + s.transfer.bytesSent, 0);
  const calls = report.sharedSessions.reduce((n, s) => n + s.transfer.diffCopyCalls, 0);
  display.message(`nx-buildkit: ${report.outcomes.length} image(s) in one run, binding ${report.mechanism}, ${report.sharedSessions.length} shared session(s), ${calls} context transfer(s), ${sent} bytes sent`);
  if (process.env.NX_VERBOSE_LOGGING === 'true') {
    // What the daemon asked of each session, to hold against the printed plan (`--print`).
    report.sharedSessions.forEach((s, i) => display.message(`nx-buildkit: shared session ${i + 1}: opened ${s.opened} time(s), local names requested: ${s.requested.join(', ') || '(none)'}`));
  }
  if (report.linkCleanup.failed.length) display.message(`nx-buildkit: could not remove image link(s) from the engine: ${report.linkCleanup.failed.join('; ')}`);
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
    imageNames = expandTagTemplates(options.tags, {
      git,
      ci: ciRefFromEnv(process.env),
      ...(project.version ? { version: project.version } : {}),
      now,
      images: [imageRepository(options, t.project)],
      flavor: options.tagFlavor,
    }).tags.map((tag) => tag.reference);
  } catch (err) {
    throw new InvalidOptionsError([`${t.project}:${t.target}: option "tags": ${(err as Error).message}`]);
  }
  const labels = options.ociLabels
    ? ociLabels({ git, project, projectName: t.project, tags: imageNames, now, created: 'commit', labels: options.labels })
    : options.labels;
  const epoch = sourceDateEpoch(options.buildArgs, process.env, git);
  return { imageNames, labels, ...(epoch ? { sourceDateEpoch: epoch.value } : {}) };
}

async function finish(outcome: TargetOutcome, n: NormalizedImageTask, task: ImageTaskInput, log: TargetProgress, startTime: number | undefined, built: BakeMetadataEntry[], loadedInto: DockerEndpoint | undefined): Promise<ImageTaskResult> {
  const endTime = Date.now();
  if (outcome.status === 'succeeded' && outcome.result) {
    await writeMetadata(n, outcome.result, loadedInto);
    built.push({ project: task.project, result: outcome.result, imageNames: n.imageNames });
    // buildx's warning for a build whose result goes nowhere (a standalone buildkitd without push, load or outputs).
    const outputsGiven = n.options.push || n.options.load || n.options.outputs.length > 0;
    if (outcome.result.cacheOnly && !outputsGiven) log.note(`warning: ${noOutputWarning}`);
    const what = outcome.result.cacheOnly ? 'cache only' : (outcome.result.digest ?? 'no image digest');
    const summary = `built ${n.imageNames.join(', ')} (${what}); metadata: ${n.metadataFile}`;
    log.note(summary);
    log.end('success', summary);
    return { taskId: task.taskId, success: true, status: 'success', terminalOutput: terminalText(log), ...(startTime ? { startTime } : {}), endTime };
  }
  if (outcome.status === 'skipped') {
    log.note(`skipped: ${outcome.reason}`);
    log.end('skipped', `skipped: ${outcome.reason}`);
    return { taskId: task.taskId, success: false, status: 'skipped', terminalOutput: terminalText(log), endTime };
  }
  const error = 'error' in outcome ? outcome.error : undefined;
  // Kept out of the live stream: Nx prints the task's log (where it goes)
  // as the task ends, so the error appears once. It names the task
  // (project:target), and the source lines the daemon located it at.
  const line = redact(`[${n.target.spec.name}] ${outcome.status}: ${task.taskId}: ${describeError(error)}`);
  log.end('failure', `${outcome.status}: ${error instanceof Error ? error.message : String(error)}`);
  // A failed build leaves no metadata behind that could pass for a success.
  await fs.rm(n.metadataFile, { force: true });
  return { taskId: task.taskId, success: false, status: 'failure', terminalOutput: failedTaskLog(log.lines, line), ...(startTime ? { startTime } : {}), endTime };
}

/** A task's lines as Nx prints them after its header; the final newline keeps the next output off the last line. */
function terminalText(log: TargetProgress): string {
  return log.lines.length ? log.lines.join('\n') + '\n' : '';
}

/**
 * The per-target metadata file: buildx's keys plus what Nx users ask for.
 * Only what identifies the image goes here (dependants hash this file); how
 * the build went (cache hits, warnings) goes to build-report.json beside it.
 */
async function writeMetadata(n: NormalizedImageTask, result: BuildResult, loadedInto: DockerEndpoint | undefined): Promise<void> {
  const metadata = {
    ...result.exporterResponse,
    'image.name': result.imageNames.length ? result.imageNames.join(',') : n.imageNames.join(','),
    project: n.target.spec.name,
    imageNames: n.imageNames,
    ...(result.digest ? { digest: result.digest } : {}),
    ...(result.configDigest ? { configDigest: result.configDigest } : {}),
    platforms: n.target.spec.platforms ?? [],
    pushed: n.options.push,
    // Nothing was exported: the image exists only in the builder's cache.
    ...(result.cacheOnly ? { cacheOnly: true } : {}),
    // How the cache check (plugin/cache/) reaches the registry the image was pushed to.
    ...(n.options.push && n.options.insecureRegistry ? { insecureRegistry: true } : {}),
    // How the cache check finds the engine a loaded image must still be in: the builder itself,
    // or the engine a buildkitd's load went to (DOCKER_HOST).
    ...(n.options.load && (result.loadedInto ?? loadedInto) ? { loaded: true, loadedInto: result.loadedInto ?? loadedInto } : {}),
  };
  const report = { project: n.target.spec.name, steps: result.steps, cacheHit: result.steps.total > 0 && result.steps.cached === result.steps.total, warnings: result.warnings.map((w) => w.short), transfer: result.transfer };
  // Redacted value by value (the files stay valid JSON): nothing a build
  // reports, warnings included, may carry a secret into a file.
  await writeJsonFile(n.metadataFile, redactDeep(metadata));
  await writeJsonFile(path.join(path.dirname(n.metadataFile), 'build-report.json'), redactDeep(report));
}


/** The invalid tasks of the run that `task` waits for, directly or through other tasks (task ids). */
function blockedBy(task: ImageTaskInput, tasks: readonly ImageTaskInput[], invalid: ReadonlyMap<string, unknown>): string[] {
  const byId = new Map(tasks.map((t) => [t.taskId, t]));
  const found = new Set<string>();
  const seen = new Set<string>();
  const visit = (id: string) => {
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (seen.has(dep)) continue;
      seen.add(dep);
      if (invalid.has(dep)) found.add(dep);
      visit(dep);
    }
  };
  visit(task.taskId);
  return [...found].sort();
}
