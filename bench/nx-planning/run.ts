/**
 * bench/nx-planning: what the plugin costs Nx before and around the builds
 * (issue #5). A benchmark, not a test: it prints figures and judges them
 * against the targets, and fails only when a run itself goes wrong.
 *
 * Part 1, planning: a generated workspace of BENCH_PROJECTS (default 2,000)
 * projects, each with a project.json and a Dockerfile (generate-workspace.ts),
 * and `nx show projects` timed with the plugin in nx.json against the same
 * workspace without it. The Nx daemon is off and `.nx/` (cache and workspace
 * data) is removed before every run, so every run infers the whole graph.
 * A third side replaces the plugin with an inert one (same files, nothing
 * inferred): Nx starts plugin workers for a workspace with any plugin, so that
 * side tells what Nx adds for every plugin from what this one adds itself.
 * The sides rotate. Target: ≤ 1 s extra with the plugin.
 *
 * Part 2, cached targets: BENCH_TARGETS (default 100) tiny image projects
 * (`FROM nxbk-base` + a COPY) built once with `nx run-many -t image` against
 * a real daemon to fill the Nx cache, then the same command timed while every
 * task is a cache hit (checked from Nx's output: a run with any task that was
 * not replayed is an error). Two workspaces: images not pushed, and images
 * pushed to the e2e registry, whose cache hits each ask the registry whether
 * the digest is still there (the runtime input, plugin/cache/). Beside them
 * `nx show projects` in the same workspace, so the per-target cost can be
 * told apart from Nx's start-up and planning, and the runtime input's own
 * process timed alone. Target: ≤ 5 s for the whole cached run.
 *
 * Env: BENCH_RUNS (default 3), BENCH_PROJECTS, BENCH_TARGETS, BENCH_PARTS
 * (default `1,2`), BENCH_DAEMON (default docker-28c, which can push; from
 * e2e/daemons), BENCH_RUNTIME (node | bun: what runs the Nx CLI, default
 * node). Part 2 needs the daemons and registry of e2e/daemons/up.sh.
 * Run with `bun bench/nx-planning/run.ts`; `bun run build` runs first.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eEnvironment } from '../../e2e/support/daemons';
import { deleteManifest, removeImagesUnder } from '../../e2e/support/engine-images';
import type { TreeSpec } from '../../e2e/support/files';
import { buildDist, createNxWorkspace, nxEnvironment, repoRoot, type NxRuntime, type NxWorkspace } from '../../e2e/support/nx-workspace';
import { planningWorkspace } from './generate-workspace';
import { taskOutcome } from './task-outcome';

const runs = Number(process.env.BENCH_RUNS ?? 3);
const projectCount = Number(process.env.BENCH_PROJECTS ?? 2000);
const targetCount = Number(process.env.BENCH_TARGETS ?? 100);
const parts = (process.env.BENCH_PARTS ?? '1,2').split(',');
const daemonName = process.env.BENCH_DAEMON ?? 'docker-28c';
const runtime = (process.env.BENCH_RUNTIME ?? 'node') as NxRuntime;
if (!['node', 'bun'].includes(runtime)) throw new Error(`BENCH_RUNTIME must be node or bun, not ${runtime}`);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
type Sample = Pick<NxTiming, 'ms' | 'cpuMs'>;
/** Median wall and CPU time of some runs, and the runs' wall times. */
const summary = (xs: Sample[]) => ({ ms: median(xs.map((x) => x.ms)), cpuMs: median(xs.map((x) => x.cpuMs)), all: xs.map((x) => secs(x.ms)).join(', ') });
const verdict = (met: boolean) => (met ? 'met' : 'NOT met');

/** The environment the e2e harness runs Nx with: daemon off, no cloud, plain output. */
const nxEnv = nxEnvironment();
const nxCli = path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js');

/**
 * One timed Nx run: wall time as a user waits for it, and CPU time of Nx's
 * main process and the processes it waited for, such as runtime inputs. Nx
 * does not wait for its plugin workers, so their CPU (the plugin's createNodes
 * and createDependencies) is not in it: part 1 reports wall time only.
 */
interface NxTiming {
  ms: number;
  cpuMs: number;
  out: string;
  stdout: string;
}

/**
 * Run the Nx CLI in `ws` as the harness's `ws.nx` does, but spawned here so
 * the run's CPU time can be read too (Bun's spawnSync reports the rusage of
 * the child and its reaped descendants): on a shared 2-core machine, wall
 * time swings with other load while CPU time says what the per-target work
 * costs. Throws with the output when Nx fails.
 */
function timedNx(ws: NxWorkspace, args: string[]): NxTiming {
  const argv = runtime === 'bun' ? [process.execPath, '--bun', nxCli, ...args] : ['node', nxCli, ...args];
  // Output to files, not pipes: spawnSync returns when Nx exits, and what was still in a pipe then is lost.
  const [outFile, errFile] = ['stdout', 'stderr'].map((n) => path.join(os.tmpdir(), `nxbk-bench-nx-${process.pid}.${n}`)) as [string, string];
  const start = performance.now();
  const r = Bun.spawnSync(argv, { cwd: ws.dir, env: nxEnv, stdout: Bun.file(outFile), stderr: Bun.file(errFile) });
  const ms = performance.now() - start;
  const plain = (file: string) => {
    const text = fs.readFileSync(file, 'utf8').replace(/\x1b\[[0-9;]*m/g, '');
    fs.rmSync(file);
    return text;
  };
  const stdout = plain(outFile);
  const out = stdout + plain(errFile);
  if (r.exitCode !== 0) throw new Error(`nx ${args.join(' ')} exited ${r.exitCode}:\n${out.slice(-4000)}`);
  return { ms, cpuMs: Number(r.resourceUsage.cpuTime.total) / 1000, out, stdout };
}

/** Forget everything Nx knows about the workspace (what `nx reset` removes, without starting another Nx). */
function resetNx(ws: NxWorkspace): void {
  fs.rmSync(path.join(ws.dir, '.nx'), { recursive: true, force: true });
}

/** A plugin for the same Dockerfiles that infers nothing (part 1's floor). */
const inertPlugin = `exports.createNodesV2 = [${JSON.stringify('**/*{Dockerfile,dockerfile,Containerfile,containerfile}*')}, async (files) => files.map((file) => [file, {}])];\n`;

const nxJson = (plugin?: Record<string, unknown>) =>
  JSON.stringify({ analytics: false, plugins: plugin ? [{ plugin: 'nx-buildkit', options: plugin }] : [] }, null, 2);

console.log('building dist/ (bun run build) …');
buildDist();
const results: string[] = [];

// ---------------------------------------------------------------- part 1
if (parts.includes('1')) {
  const generated = planningWorkspace(projectCount);
  console.log(
    `\npart 1: generating ${generated.projects} projects (${generated.files} files; ${generated.withImageDependencies} built from other projects' images, ${generated.withDockerignore} with .dockerignore) …`,
  );
  const ws = createNxWorkspace(generated.spec);
  try {
    ws.git('add', '-A');
    ws.git('commit', '-qm', 'fixture');
    // The floor: a plugin that matches the same files and infers nothing. Nx
    // treats a workspace with any plugin in nx.json differently from one with
    // none (it starts plugin workers, its own plugins' included), so part of
    // "with − without" is what every plugin costs, whatever it does.
    ws.write({ 'tools/inert-plugin.cjs': inertPlugin });
    const side = { with: [] as Sample[], without: [] as Sample[], floor: [] as Sample[] };
    const sides = ['with', 'without', 'floor'] as const;
    const configOf = { with: nxJson({}), without: nxJson(), floor: JSON.stringify({ analytics: false, plugins: ['./tools/inert-plugin.cjs'] }) };
    for (let i = 0; i < runs; i++) {
      // Each side goes first, second and third in turn.
      const order = sides.map((_, k) => sides[(i + k) % sides.length]!);
      for (const s of order) {
        ws.write({ 'nx.json': configOf[s] });
        resetNx(ws);
        const t = timedNx(ws, ['show', 'projects', '--json']);
        const listed = (JSON.parse(t.stdout) as string[]).length;
        if (listed !== projectCount) throw new Error(`nx show projects listed ${listed} projects ${s === 'with' ? 'with' : s === 'without' ? 'without' : 'with an inert plugin instead of'} the plugin, not ${projectCount}`);
        side[s].push(t);
      }
      const [w, wo, f] = [side.with.at(-1)!, side.without.at(-1)!, side.floor.at(-1)!];
      console.log(`run ${i + 1}: with the plugin ${secs(w.ms)} | without ${secs(wo.ms)} | an inert plugin ${secs(f.ms)}`);
    }

    // Outside the timing: the plugin really inferred the targets and the image edges.
    ws.write({ 'nx.json': nxJson({}) });
    const withTarget = JSON.parse(timedNx(ws, ['show', 'projects', '--with-target', 'image', '--json']).stdout) as string[];
    const graphFile = path.join(ws.dir, 'graph.json');
    timedNx(ws, ['graph', `--file=${graphFile}`]);
    const graph = JSON.parse(fs.readFileSync(graphFile, 'utf8')) as { graph: { dependencies: Record<string, Array<{ target: string }>> } };
    const withEdges = Object.values(graph.graph.dependencies).filter((deps) => deps.some((d) => d.target.startsWith('base-'))).length;
    if (withTarget.length !== projectCount) throw new Error(`with the plugin, ${withTarget.length} projects have an image target, not ${projectCount}`);
    if (withEdges !== generated.withImageDependencies) {
      throw new Error(`the graph has image edges from ${withEdges} projects, the workspace has ${generated.withImageDependencies} built from other projects' images`);
    }

    const [w, wo, f] = [summary(side.with), summary(side.without), summary(side.floor)];
    const extra = w.ms - wo.ms;
    results.push(
      `nx-planning part 1: \`nx show projects\`, ${projectCount} projects (${withEdges} with image dependencies), Nx CLI under ${runtime}, daemon off, .nx/ reset before each run, ${runs} runs each`,
      `  with the plugin    median ${secs(w.ms)} (${w.all})`,
      `  without the plugin median ${secs(wo.ms)} (${wo.all})`,
      `  an inert plugin    median ${secs(f.ms)} (${f.all}): what Nx adds for any plugin`,
      `  extra for planning ${secs(extra)} (ratio ${(w.ms / wo.ms).toFixed(2)}); target ≤ 1 s: ${verdict(extra <= 1000)}`,
      `    of which Nx's for any plugin ${secs(f.ms - wo.ms)}, this plugin's own ${secs(w.ms - f.ms)}`,
    );
  } finally {
    ws[Symbol.dispose]();
  }
}

// ---------------------------------------------------------------- part 2
if (parts.includes('2')) {
  const env = e2eEnvironment();
  const daemon = env.daemons.find((d) => d.name === daemonName);
  if (!daemon) throw new Error(`daemon ${daemonName} is not running (bash e2e/daemons/up.sh)`);
  if (!env.registry) throw new Error('no registry in daemons.json (bash e2e/daemons/up.sh)');
  const registry = env.registry;
  const runId = randomBytes(4).toString('hex');
  const pushPrefix = `nxbk-bench-${runId}`;
  const name = (i: number) => `img-${String(i).padStart(3, '0')}`;

  /** The 100 tiny image projects; pushed ones name the e2e registry. */
  const targetsSpec = (push: boolean): TreeSpec => {
    const spec: TreeSpec = {};
    for (let i = 0; i < targetCount; i++) {
      const image = push ? { targets: { image: { options: { imageName: `${registry}/${pushPrefix}/${name(i)}` } } } } : {};
      spec[`images/${name(i)}/project.json`] = JSON.stringify({ name: name(i), ...image });
      spec[`images/${name(i)}/Dockerfile`] = 'FROM nxbk-base\nCOPY hello.txt /hello.txt\n';
      // Content unique to the project and this run: every image (and every push) is its own.
      spec[`images/${name(i)}/hello.txt`] = `hello from ${name(i)} (${runId})\n`;
    }
    return spec;
  };
  const variants = [
    { key: 'local', label: 'not pushed', push: false },
    { key: 'pushed', label: `pushed to ${registry}`, push: true },
  ] as const;

  const workspaces = new Map<string, NxWorkspace>();
  try {
    for (const v of variants) {
      const ws = createNxWorkspace(targetsSpec(v.push), {
        options: { builder: daemon.address, network: 'none', progress: 'plain', concurrency: 8, ...(v.push ? { push: true, insecureRegistry: true } : {}) },
      });
      workspaces.set(v.key, ws);
      ws.git('add', '-A');
      ws.git('commit', '-qm', 'fixture');
      // Fill the cache in slices of 25 images: on a busy machine one Nx run over all of them can take minutes.
      console.log(`\npart 2 (${v.label}): building ${targetCount} images on ${daemon.name} to fill the Nx cache …`);
      const fillStart = performance.now();
      const slice = 25;
      for (let from = 0; from < targetCount; from += slice) {
        const projects = Array.from({ length: Math.min(slice, targetCount - from) }, (_, k) => name(from + k));
        timedNx(ws, ['run-many', '-t', 'image', `--projects=${projects.join(',')}`, '--output-style=static']);
      }
      console.log(`  filled in ${secs(performance.now() - fillStart)}`);
    }

    const times = new Map<string, Sample[]>(['plan-local', 'plan-pushed', 'local', 'pushed'].map((k) => [k, []]));
    const kinds = ['plan-local', 'local', 'pushed', 'plan-pushed'];
    for (let i = 0; i < runs; i++) {
      // Rotate the order each run, so drift of a shared machine hits every kind alike.
      const order = [...kinds.slice(i % kinds.length), ...kinds.slice(0, i % kinds.length)];
      for (const kind of order) {
        const planOnly = kind.startsWith('plan-');
        const ws = workspaces.get(planOnly ? kind.slice(5) : kind)!;
        if (planOnly) {
          times.get(kind)!.push(timedNx(ws, ['show', 'projects', '--json']));
          continue;
        }
        const t = timedNx(ws, ['run-many', '-t', 'image', '--output-style=static']);
        const o = taskOutcome(t.out, 'image');
        // Every task must be a hit: none ran, and each replayed one is listed or Nx's closing count says all were
        // (either alone: a run's output to a pipe can come back without its tail when Nx exits).
        const allHits = o.ran.length === 0 && (o.cached.length === targetCount || (o.nxCount?.cached === targetCount && o.nxCount.total === targetCount));
        if (!allHits || (o.nxCount && o.nxCount.cached !== o.nxCount.total)) {
          throw new Error(
            `${kind}: not every task was a cache hit: ${o.cached.length} replayed, ran ${o.ran.join(', ') || 'none'}, Nx counted ${o.nxCount ? `${o.nxCount.cached} of ${o.nxCount.total}` : 'nothing'}\n${t.out.slice(-3000)}`,
          );
        }
        times.get(kind)!.push(t);
      }
      const last = (kind: string) => times.get(kind)!.at(-1)!;
      console.log(
        `run ${i + 1}: cached run ${secs(last('local').ms)} not pushed, ${secs(last('pushed').ms)} pushed` +
          ` | nx show projects ${secs(last('plan-local').ms)}, ${secs(last('plan-pushed').ms)}`,
      );
    }

    // The runtime input's own process, alone: what each cache hit pays for it, run one at a time.
    const checker = path.join(repoRoot, 'dist/check-image.cjs');
    const checkMs = (ws: NxWorkspace) => {
      const start = performance.now();
      for (let i = 0; i < Math.min(targetCount, 20); i++) {
        const r = spawnSync('node', [checker, `dist/images/images/${name(i)}/metadata.json`], { cwd: ws.dir, encoding: 'utf8' });
        if (r.stdout.trim() !== 'ok') throw new Error(`the registry check of ${name(i)} printed ${JSON.stringify(r.stdout)}, not ok`);
      }
      return (performance.now() - start) / Math.min(targetCount, 20);
    };
    const checkLocal = checkMs(workspaces.get('local')!);
    const checkPushed = checkMs(workspaces.get('pushed')!);

    results.push(`\nnx-planning part 2: \`nx run-many -t image\` with all ${targetCount} tasks cache hits, ${daemon.name}, Nx CLI under ${runtime}, daemon off, ${runs} runs each`);
    for (const v of variants) {
      const total = summary(times.get(v.key)!);
      const plan = summary(times.get(`plan-${v.key}`)!);
      results.push(
        `  ${v.label}: median ${secs(total.ms)} (${total.all}), CPU ${secs(total.cpuMs)}; ${(total.ms / targetCount).toFixed(1)} ms per target; target ≤ 5 s: ${verdict(total.ms <= 5000)}`,
        `    nx show projects in that workspace ${secs(plan.ms)}, CPU ${secs(plan.cpuMs)}: ${((total.ms - plan.ms) / targetCount).toFixed(1)} ms (CPU ${((total.cpuMs - plan.cpuMs) / targetCount).toFixed(1)} ms) per target beyond planning`,
      );
    }
    results.push(`  the runtime input alone (node dist/check-image.cjs, one at a time): ${checkLocal.toFixed(0)} ms not pushed, ${checkPushed.toFixed(0)} ms pushed (asks ${registry})`);
  } finally {
    for (const ws of workspaces.values()) {
      // Pushed manifests and the engine's copies of them: this run's only leftovers outside its temp dirs.
      for (let i = 0; i < targetCount; i++) {
        const file = path.join(ws.dir, 'dist/images/images', name(i), 'metadata.json');
        if (!fs.existsSync(file)) continue;
        const metadata = JSON.parse(fs.readFileSync(file, 'utf8')) as { pushed?: boolean; digest?: string };
        if (metadata.pushed && metadata.digest) await deleteManifest(registry, `${pushPrefix}/${name(i)}`, metadata.digest).catch(() => undefined);
      }
      ws[Symbol.dispose]();
    }
    await removeImagesUnder(daemon.address.replace(/^docker:\/\//, ''), `${registry}/${pushPrefix}`);
  }
}

console.log(`\n${results.join('\n')}`);
