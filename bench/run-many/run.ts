/**
 * bench/run-many: a monorepo's image run, ours against the tools users run
 * today, on the same daemon in one run. N image projects whose Dockerfiles
 * each `COPY` ONE shared context (nested source files, tens of MB, with a
 * `.dockerignore`) and export nothing:
 *
 * - ours:   `nx run-many -t image --skip-nx-cache` (Nx CLI under Node, Nx daemon off, json progress);
 * - bake:   `docker buildx bake` with a generated bake file for the same targets;
 * - builds: N sequential `docker buildx build`, what per-task executors (nx-container) do;
 * - floor:  `nx run-many -t floor --skip-nx-cache`, the same projects and task
 *           inputs run by a batch executor that does nothing (a package in the
 *           generated workspace): Nx's own start, project graph (our plugin's
 *           inference included) and task hashing, which no executor removes.
 *
 * Cold: the daemon's cache is pruned before every run; the sides rotate
 * (A B C, C B A, …) so drift of a shared machine hits all alike. Figures per
 * side: wall time, time from process start to the first step the daemon
 * started, the context transfer (daemon-timed `load build context` steps,
 * summed when a side transfers it more than once) and peak RSS (GNU time).
 * Warm (BENCH_WARM=1): Nx daemon on, each side builds once, then one file of
 * the context changes and the timed run follows.
 *
 * Env: BENCH_TARGETS (8), BENCH_FILES (7500), BENCH_BYTES (60 MB), BENCH_RUNS
 * (3), BENCH_DAEMON (docker-28; any name from e2e/daemons, `buildkitd` goes
 * through a buildx remote-driver builder; `private-docker-28` / `private-docker-26`
 * start a private engine of that kind for the run, so pruning its cache
 * disturbs nobody), BENCH_SIDES (ours,bake,builds,floor; also ours-wide: ours with every solve at once),
 * BENCH_OUTPUT (none: every side exports nothing, `cacheonly`; load: every
 * side loads its image into the Docker engine, as a run on a Docker engine
 * does by default), BENCH_WARM (0), BENCH_FORGET_CAPABILITIES (0; 1 deletes the capabilities our
 * plugin remembers before each of our runs, so each probes the builder as a
 * first run does; by default they are remembered before the timed runs, as
 * on any run after a workspace's first), BENCH_DUMP (a directory: every command's
 * output is written there, one file per run, for reading the daemon's steps), BENCH_TIMING (0; 1 prints our executor's phase timestamps,
 * NXBK_DEBUG_TIMING, relative to the `nx` start). Needs the daemons of e2e/daemons/up.sh (and the buildx
 * plugin it unpacks).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitClient } from '../../plugin/buildkit/index';
import { daemonsHome, e2eEnvironment } from '../../e2e/support/daemons';
import { createNxWorkspace, nxEnvironment, repoRoot } from '../../e2e/support/nx-workspace';
import { PrivateEngine, type PrivateEngineKind } from '../../e2e/support/private-engine';
import { generateContext } from '../filesync/generate-context';
import { firstStepAndTransfer, medianOf, type RunFigures, summarize } from './figures';

const targets = Number(process.env.BENCH_TARGETS ?? 8);
const files = Number(process.env.BENCH_FILES ?? 7500);
const bytes = Number(process.env.BENCH_BYTES ?? 60 * 1024 ** 2);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const daemonName = process.env.BENCH_DAEMON ?? 'docker-28';
const sides = (process.env.BENCH_SIDES ?? 'ours,bake,builds,floor').split(',').filter(Boolean) as Side[];
const warm = process.env.BENCH_WARM === '1';
const timing = process.env.BENCH_TIMING === '1';
const forgetCapabilities = process.env.BENCH_FORGET_CAPABILITIES === '1';
const dumpDir = process.env.BENCH_DUMP;
const output = process.env.BENCH_OUTPUT ?? 'none';
if (output !== 'none' && output !== 'load') throw new Error(`BENCH_OUTPUT: none or load, not ${output}`);
let dumped = 0;
type Side = 'ours' | 'ours-wide' | 'bake' | 'builds' | 'floor';
for (const s of sides) if (!['ours', 'ours-wide', 'bake', 'builds', 'floor'].includes(s)) throw new Error(`BENCH_SIDES: unknown side ${s}`);

const privateEngine = daemonName.startsWith('private-') ? await PrivateEngine.start(daemonName.slice('private-'.length) as PrivateEngineKind) : undefined;
const daemon = privateEngine
  ? { name: daemonName, address: privateEngine.address, kind: 'docker' as const }
  : e2eEnvironment().daemons.find((d) => d.name === daemonName);
if (!daemon) throw new Error(`daemon ${daemonName} is not running (bash e2e/daemons/up.sh)`);
if (output === 'load' && daemon.kind !== 'docker') throw new Error('BENCH_OUTPUT=load needs a Docker engine as BENCH_DAEMON');
const buildxBin = path.join(daemonsHome(), 'pkgs', 'buildx', 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-buildx');
if (!fs.existsSync(buildxBin) && sides.some((s) => s === 'bake' || s === 'builds')) throw new Error(`no buildx plugin at ${buildxBin} (bash e2e/daemons/install.sh)`);
const gnuTime = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
const nxCli = path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js');
const name = (i: number) => `img-${String(i).padStart(2, '0')}`;

// ------------------------------------------------------------ the workspace
const spec: Record<string, string> = {};
for (let i = 0; i < targets; i++) {
  spec[`apps/${name(i)}/project.json`] = JSON.stringify({
    name: name(i),
    targets: { image: { options: { context: 'shared', dockerfile: `apps/${name(i)}/Dockerfile`, imageName: `nxbk-bench/${name(i)}` } } },
  });
  spec[`apps/${name(i)}/Dockerfile`] = `FROM scratch\nLABEL t=${i}\nCOPY . /src/\n`;
}
// Nothing exported: `cacheonly` on every side (else a Docker engine loads an image that has no outputs). With BENCH_OUTPUT=load, every side loads.
const outputs = output === 'none' ? { outputs: ['type=cacheonly'] } : { load: true };
const ws = createNxWorkspace(spec, { options: { builder: daemon.address, progress: 'json', network: 'none', ...outputs } });
const context = path.join(ws.dir, 'shared');
console.log(`generating ${files} files, ${(bytes / 1024 ** 2).toFixed(0)} MiB in ${context} …`);
generateContext(context, { files, bytes });
fs.rmSync(path.join(context, 'Dockerfile'));
// What a real tree keeps out of its images: logs and a build folder, plus files in both.
fs.writeFileSync(path.join(context, '.dockerignore'), '**/*.log\nbuild/\n.bench-shape\n');
fs.mkdirSync(path.join(context, 'build'), { recursive: true });
for (let i = 0; i < 200; i++) fs.writeFileSync(path.join(context, 'build', `out-${i}.js`), `// ${i}\n`.repeat(500));
for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(context, `pkg-${i}`, 'debug.log'), 'log\n'.repeat(1000));
if (sides.includes('floor')) addFloorTargets();
ws.git('add', '-A');
ws.git('commit', '-qm', 'fixture');

/**
 * The floor: a `floor` target beside every `image` target, with the inputs,
 * cache setting, outputs and dependencies Nx infers for `image` (so Nx
 * builds the same task graph and hashes the same files), run by a batch
 * executor that reports success for every task without doing anything.
 * The executor is a package of the generated workspace's own node_modules.
 */
function addFloorTargets(): void {
  const floorPackage = path.join(ws.dir, 'node_modules', 'nxbk-bench-floor');
  fs.mkdirSync(floorPackage);
  fs.writeFileSync(path.join(floorPackage, 'package.json'), JSON.stringify({ name: 'nxbk-bench-floor', version: '0.0.0', executors: './executors.json' }));
  fs.writeFileSync(path.join(floorPackage, 'schema.json'), JSON.stringify({ type: 'object', properties: {} }));
  fs.writeFileSync(
    path.join(floorPackage, 'executors.json'),
    JSON.stringify({ executors: { noop: { implementation: './index.js#single', batchImplementation: './index.js#batch', preferBatch: true, schema: './schema.json' } } }),
  );
  fs.writeFileSync(
    path.join(floorPackage, 'index.js'),
    [
      'exports.single = async function () { return { success: true }; };',
      'exports.batch = async function* (taskGraph, inputs) {',
      "  for (const task of Object.keys(inputs)) yield { task, result: { success: true, terminalOutput: '' } };",
      '};',
      '',
    ].join('\n'),
  );
  for (let i = 0; i < targets; i++) {
    const shown = ws.nxJson<{ targets: Record<string, { inputs?: unknown; cache?: boolean; outputs?: unknown; dependsOn?: unknown }> }>('node', ['show', 'project', name(i), '--json']);
    const image = shown.targets.image!;
    const file = path.join(ws.dir, 'apps', name(i), 'project.json');
    const project = JSON.parse(fs.readFileSync(file, 'utf8')) as { targets: Record<string, unknown> };
    project.targets.floor = {
      executor: 'nxbk-bench-floor:noop',
      ...(image.inputs ? { inputs: image.inputs } : {}),
      ...(image.cache !== undefined ? { cache: image.cache } : {}),
      ...(image.outputs ? { outputs: image.outputs } : {}),
      ...(image.dependsOn ? { dependsOn: JSON.parse(JSON.stringify(image.dependsOn).replaceAll('"image"', '"floor"')) } : {}),
    };
    fs.writeFileSync(file, JSON.stringify(project, null, 2));
  }
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-bench-run-many-'));
const dockerConfig = path.join(work, 'docker-config');
fs.mkdirSync(dockerConfig);
const bakeFile = path.join(work, 'docker-bake.json');
fs.writeFileSync(
  bakeFile,
  JSON.stringify({
    group: { default: { targets: Array.from({ length: targets }, (_, i) => name(i)) } },
    target: Object.fromEntries(
      Array.from({ length: targets }, (_, i) => [name(i), { context, dockerfile: path.join(ws.dir, 'apps', name(i), 'Dockerfile'), output: [bakeOutput()] }]),
    ),
  }),
);

/** buildx's output for the same result: none, or the image loaded into the engine (`--load`). */
function bakeOutput(): string {
  return output === 'none' ? 'type=cacheonly' : 'type=docker';
}
/** buildx talks to an engine through DOCKER_HOST; to a buildkitd through a remote-driver builder of its own config. */
const buildxEnv: NodeJS.ProcessEnv = { ...process.env, DOCKER_CONFIG: dockerConfig, BUILDX_NO_DEFAULT_ATTESTATIONS: '1' };
const builderFlag: string[] = [];
if (daemon.kind === 'docker') buildxEnv.DOCKER_HOST = daemon.address.replace(/^docker:\/\//, 'unix://');
else {
  run([buildxBin, 'create', '--name', 'nxbk-bench', '--driver', 'remote', daemon.address], buildxEnv);
  builderFlag.push('--builder', 'nxbk-bench');
}

function run(argv: string[], env: NodeJS.ProcessEnv, cwd = ws.dir): { wallMs: number; startMs: number; out: string; rssMb?: number } {
  const rssFile = path.join(work, 'rss');
  const [outFile, errFile] = [path.join(work, 'out'), path.join(work, 'err')];
  for (const f of [outFile, errFile, rssFile]) fs.rmSync(f, { force: true });
  const full = gnuTime ? [gnuTime, '-f', '%M', '-o', rssFile, ...argv] : argv;
  const startMs = Date.now();
  const start = performance.now();
  // Output to files, not pipes: what is still in a pipe when the process exits is lost to spawnSync.
  const r = Bun.spawnSync(full, { cwd, env, stdout: Bun.file(outFile), stderr: Bun.file(errFile) });
  const wallMs = performance.now() - start;
  const out = fs.readFileSync(outFile, 'utf8') + fs.readFileSync(errFile, 'utf8');
  if (dumpDir) fs.writeFileSync(path.join(dumpDir, `${String(++dumped).padStart(3, '0')}-${path.basename(argv[1] ?? argv[0]!)}-${argv[2] ?? ''}.log`), `${argv.join(' ')}\n${out}`);
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} exited ${r.exitCode}:\n${out.slice(-4000)}`);
  const rssMb = gnuTime ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024 : undefined;
  return { wallMs, startMs, out, rssMb };
}

const ourEnv = (nxDaemon: boolean) => ({ ...nxEnvironment(), NX_DAEMON: String(nxDaemon) });
function runSide(side: Side, nxDaemon = false): RunFigures {
  if (side === 'floor') {
    const r = run(['node', nxCli, 'run-many', '-t', 'floor', '--skip-nx-cache'], ourEnv(nxDaemon));
    if (!r.out.includes(`Successfully ran target floor for ${targets} project`)) throw new Error(`the floor did not run every task:\n${r.out.slice(-2000)}`);
    return { wallMs: r.wallMs, rssMb: r.rssMb, firstStepMs: NaN, transferMs: NaN, transferBytes: 0, transfers: NaN };
  }
  if (side === 'ours' || side === 'ours-wide') {
    if (forgetCapabilities) fs.rmSync(path.join(ws.dir, 'node_modules', '.cache', 'nx-buildkit'), { recursive: true, force: true });
    // ours-wide: every target's solve at once, as bake does (ours: the `concurrency` option's default).
    const wide = side === 'ours-wide' ? [`--concurrency=${targets}`] : [];
    const r = run(['node', nxCli, 'run-many', '-t', 'image', '--skip-nx-cache', ...wide], { ...ourEnv(nxDaemon), ...(timing ? { NXBK_DEBUG_TIMING: '1' } : {}) });
    if (timing) printPhases(r.out, r.startMs);
    return { wallMs: r.wallMs, rssMb: r.rssMb, ...firstStepAndTransfer(r.out, r.startMs, 'ours') };
  }
  if (side === 'bake') {
    const r = run([buildxBin, 'bake', ...builderFlag, '--progress=rawjson', '-f', bakeFile], buildxEnv);
    return { wallMs: r.wallMs, rssMb: r.rssMb, ...firstStepAndTransfer(r.out, r.startMs, 'rawjson') };
  }
  // Sequential builds: wall and transfer times add up; peak RSS is the largest; first step is the first build's.
  const each = Array.from({ length: targets }, (_, i) =>
    run([buildxBin, 'build', ...builderFlag, '--progress=rawjson', '--output', bakeOutput(), '-f', path.join(ws.dir, 'apps', name(i), 'Dockerfile'), context], buildxEnv),
  );
  const figures = each.map((r) => firstStepAndTransfer(r.out, r.startMs, 'rawjson'));
  return {
    wallMs: each.reduce((a, r) => a + r.wallMs, 0),
    rssMb: Math.max(...each.map((r) => r.rssMb ?? 0)) || undefined,
    firstStepMs: figures[0]!.firstStepMs,
    transferMs: figures.reduce((a, f) => a + f.transferMs, 0),
    transferBytes: figures.reduce((a, f) => a + f.transferBytes, 0),
    transfers: figures.reduce((a, f) => a + f.transfers, 0),
  };
}

async function prune(): Promise<void> {
  await using client = await BuildkitClient.connect({ address: daemon!.address });
  await client.control.prune({ all: true });
}

const results = new Map<Side, RunFigures[]>(sides.map((s) => [s, []]));
try {
  // What a workspace's first run learns about the builder (its binding, by a probe solve), learnt before the timed runs.
  if (sides.some((s) => s.startsWith('ours')) && !forgetCapabilities) run(['node', nxCli, 'run-many', '-t', 'image', '--print', '--skip-nx-cache'], ourEnv(false));
  for (let i = 0; i < runs; i++) {
    const order = i % 2 === 0 ? sides : [...sides].reverse();
    const line: string[] = [];
    for (const side of order) {
      if (side !== 'floor') await prune();
      const f = runSide(side);
      results.get(side)!.push(f);
      line.push(`${side} ${(f.wallMs / 1000).toFixed(2)} s`);
    }
    console.log(`cold run ${i + 1}: ${line.join(' | ')}`);
  }
  console.log(`\nrun-many benchmark on ${daemonName}: ${targets} targets over one context of ${files} files / ${(bytes / 1024 ** 2).toFixed(0)} MiB, cold, ${runs} runs each; our capabilities ${forgetCapabilities ? 'probed in every run' : 'remembered'}`);
  console.log(summarize(results, 'bake'));
  console.log(aboveFloor(results));

  if (warm) {
    const warmResults = new Map<Side, RunFigures[]>(sides.map((s) => [s, []]));
    for (let i = 0; i < runs; i++) {
      for (const side of i % 2 === 0 ? sides : [...sides].reverse()) {
        runSide(side, true);
        // One changed file: only it (plus the listing) should travel (and Nx hashes it anew).
        fs.appendFileSync(path.join(context, 'pkg-1', 'mod-1', 'file-51.ts'), `// ${side} ${i}\n`);
        warmResults.get(side)!.push(runSide(side, true));
      }
    }
    console.log(`\nwarm: Nx daemon on, one file changed after a build, ${runs} runs each`);
    console.log(summarize(warmResults, 'bake'));
    console.log(aboveFloor(warmResults));
  }
} finally {
  spawnQuiet(['node', nxCli, 'daemon', '--stop']);
  ws[Symbol.dispose]();
  fs.rmSync(work, { recursive: true, force: true });
  await privateEngine?.stop();
}

/** Our wall time above the floor: what our executor (and the daemon's work) adds to Nx's own cost. */
function aboveFloor(results: Map<Side, RunFigures[]>): string {
  const ours = results.get('ours');
  const floor = results.get('floor');
  if (!ours?.length || !floor?.length) return '';
  const med = (xs: RunFigures[]) => medianOf(xs.map((r) => r.wallMs));
  return `ours - floor (medians): ${((med(ours) - med(floor)) / 1000).toFixed(2)} s (ours ${(med(ours) / 1000).toFixed(2)} s, Nx floor ${(med(floor) / 1000).toFixed(2)} s)`;
}

/** Our executor's phase marks (NXBK_DEBUG_TIMING), and the daemon's first step, from the `nx` process's start. */
function printPhases(output: string, startMs: number): void {
  const lines = output.split('\n').flatMap((line) => {
    const m = /nxbk-timing (\d+) \+\d+ms (.*)$/.exec(line);
    return m ? [`  +${((Number(m[1]) - startMs) / 1000).toFixed(2)} s  ${m[2]}`] : [];
  });
  const f = firstStepAndTransfer(output, startMs, 'ours');
  console.log([...lines, `  +${(f.firstStepMs / 1000).toFixed(2)} s  daemon: first step started`, `  transfer ${(f.transferMs / 1000).toFixed(2)} s`].join('\n'));
}

function spawnQuiet(argv: string[]): void {
  Bun.spawnSync(argv, { cwd: ws.dir, env: ourEnv(true), stdout: 'ignore', stderr: 'ignore' });
}
