/**
 * bench/filesync: how fast a large build context reaches the daemon, our
 * client against `docker buildx build` (Debian's docker-buildx plugin) on the
 * same Docker engine, in one run. Both build the same Dockerfile, whose only
 * step bind-mounts the whole context (so all of it is transferred and nothing
 * is copied or exported). Before every run the daemon's build cache is
 * pruned, so each run transfers everything; the two sides alternate (ABBA
 * order, so drift of a shared machine hits both alike).
 *
 * Figures per side: wall time of the whole process (start-up included, as a
 * user waits for it), the daemon's own timing and byte count of the context
 * transfer (read from the Status stream for us and `--progress=rawjson` for
 * buildx: same counter, same clock), and peak RSS. A run whose daemon-counted
 * bytes differ between the sides is reported as an error: both must send the
 * whole context.
 *
 * Env: BENCH_FILES (default 50000), BENCH_BYTES (default 1 GiB), BENCH_RUNS
 * (default 3), BENCH_DAEMON (default docker-28, from e2e/daemons), BENCH_DIR,
 * BENCH_RUNTIME (bun | node: what runs our side, default bun),
 * BENCH_TRANSPORT (docker | grpc: our session transport, default docker, the
 * one buildx uses on Docker engines).
 * Needs the daemons of e2e/daemons/up.sh (for the buildx plugin too).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitClient } from '../../plugin/buildkit/index';
import { daemonsHome, e2eEnvironment } from '../../e2e/support/daemons';
import { ContextTransfer, type StatusLike, type TransferFigures } from './context-transfer';
import { generateContext } from './generate-context';

const files = Number(process.env.BENCH_FILES ?? 50_000);
const bytes = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const daemonName = process.env.BENCH_DAEMON ?? 'docker-28';
const runtime = process.env.BENCH_RUNTIME ?? 'bun';
const transport = process.env.BENCH_TRANSPORT ?? 'docker';
const contextDir = process.env.BENCH_DIR ?? path.join(os.tmpdir(), `nxbk-bench-context-${files}-${bytes}`);
if (!['bun', 'node'].includes(runtime)) throw new Error(`BENCH_RUNTIME must be bun or node, not ${runtime}`);
if (!['docker', 'grpc'].includes(transport)) throw new Error(`BENCH_TRANSPORT must be docker or grpc, not ${transport}`);

const daemon = e2eEnvironment().daemons.find((d) => d.name === daemonName);
if (!daemon) throw new Error(`daemon ${daemonName} is not running (bash e2e/daemons/up.sh)`);
const socket = daemon.address.replace(/^docker:\/\//, '');
const buildx = path.join(daemonsHome(), 'pkgs', 'buildx', 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-buildx');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-bench-'));
const buildxConfig = path.join(work, 'docker-config');
fs.mkdirSync(buildxConfig);
// GNU time gives both sides' peak RSS the same way; without it only ours is known (from the process itself).
const gnuTime = fs.existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

console.log(`generating ${files} files, ${(bytes / 1024 ** 2).toFixed(0)} MiB in ${contextDir} …`);
generateContext(contextDir, { files, bytes });

/** Our side's command: the TypeScript under Bun, or a Node bundle of it. */
function ourCommand(): string[] {
  const script = path.join(import.meta.dir, 'our-transfer.ts');
  if (runtime === 'bun') return ['bun', script];
  const bundle = path.join(work, 'our-transfer.mjs');
  const built = spawnSync('bun', ['build', script, '--target=node', `--outfile=${bundle}`, '--external', '@grpc/grpc-js', '--external', 'protobufjs'], {
    encoding: 'utf8',
  });
  if (built.status !== 0) throw new Error(`cannot bundle our side for Node:\n${built.stderr}${built.stdout}`);
  // The bundle resolves its external packages from the repository's node_modules.
  fs.symlinkSync(path.join(import.meta.dir, '..', '..', 'node_modules'), path.join(work, 'node_modules'));
  return ['node', bundle];
}
const ours = ourCommand();

interface RunFigures {
  wallMs: number;
  daemon: TransferFigures;
  rssMb?: number;
  /** Our provider's own count of content bytes (ours only). */
  contentBytes?: number;
}

async function prune(): Promise<void> {
  await using client = await BuildkitClient.connect({ address: daemon!.address });
  await client.control.prune({ all: true });
}

/** Run a command, timing the whole process; peak RSS from GNU time when present. */
function timed(argv: string[], env: NodeJS.ProcessEnv): { wallMs: number; stdout: string; stderr: string; rssMb?: number } {
  const rssFile = path.join(work, 'rss');
  const full = gnuTime ? [gnuTime, '-f', '%M', '-o', rssFile, ...argv] : argv;
  const start = performance.now();
  const r = spawnSync(full[0]!, full.slice(1), { encoding: 'utf8', env, maxBuffer: 256 * 1024 ** 2 });
  const wallMs = performance.now() - start;
  if (r.status !== 0) throw new Error(`${argv.join(' ')} failed:\n${r.stderr}${r.stdout}`);
  const rssMb = gnuTime ? Number(fs.readFileSync(rssFile, 'utf8').trim().split('\n').at(-1)) / 1024 : undefined;
  return { wallMs, stdout: r.stdout, stderr: r.stderr, rssMb };
}

function runOurs(): RunFigures {
  const r = timed([...ours, daemon!.address, contextDir, transport], process.env);
  const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { bytesSent: number; daemon?: TransferFigures; maxRssKb: number };
  if (!line.daemon) throw new Error('the daemon reported no context transfer for our build');
  return { wallMs: r.wallMs, daemon: line.daemon, rssMb: r.rssMb ?? line.maxRssKb / 1024, contentBytes: line.bytesSent };
}

function runBuildx(): RunFigures {
  const r = timed([buildx, 'build', '--network', 'none', '--progress=rawjson', '--output', 'type=cacheonly', contextDir], {
    ...process.env,
    DOCKER_HOST: `unix://${socket}`,
    DOCKER_CONFIG: buildxConfig,
  });
  const transfer = new ContextTransfer();
  for (const line of r.stderr.split('\n')) if (line.startsWith('{')) transfer.update(JSON.parse(line) as StatusLike);
  const figures = transfer.figures();
  if (!figures) throw new Error(`the daemon reported no context transfer for buildx:\n${r.stderr.slice(-2000)}`);
  return { wallMs: r.wallMs, daemon: figures, rssMb: r.rssMb };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const mib = (n: number) => `${(n / 1024 ** 2).toFixed(1)} MiB`;
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

const our: RunFigures[] = [];
const their: RunFigures[] = [];
try {
  for (let i = 0; i < runs; i++) {
    // ABBA: ours first on even runs, buildx first on odd ones.
    const order = i % 2 === 0 ? (['ours', 'buildx'] as const) : (['buildx', 'ours'] as const);
    for (const side of order) {
      await prune();
      if (side === 'ours') our.push(runOurs());
      else their.push(runBuildx());
    }
    const o = our.at(-1)!;
    const t = their.at(-1)!;
    // fsutil counts each packet's size, so equal counts mean the same entries and content in the same 32 KiB chunks.
    if (o.daemon.bytes !== t.daemon.bytes) {
      throw new Error(`run ${i + 1}: the daemon counted ${o.daemon.bytes} bytes from us but ${t.daemon.bytes} from buildx: not the same transfer`);
    }
    console.log(
      `run ${i + 1}: ours ${secs(o.wallMs)} (transfer ${secs(o.daemon.ms)}, ${mib(o.daemon.bytes)}, peak RSS ${o.rssMb?.toFixed(0)} MB)` +
        ` | buildx ${secs(t.wallMs)} (transfer ${secs(t.daemon.ms)}, ${mib(t.daemon.bytes)}, peak RSS ${t.rssMb?.toFixed(0) ?? '?'} MB)`,
    );
  }
} finally {
  fs.rmSync(work, { recursive: true, force: true });
}

const m = (xs: RunFigures[], f: (r: RunFigures) => number) => median(xs.map(f));
const peak = (xs: RunFigures[]) => (xs.every((r) => r.rssMb !== undefined) ? `${Math.max(...xs.map((r) => r.rssMb!)).toFixed(0)} MB` : 'not measured');
console.log(`\nfilesync benchmark on ${daemonName}: ${files} files, ${mib(bytes)}, ${runs} runs each; ours under ${runtime}, sessions over ${transport === 'docker' ? 'Docker /session' : 'Control/Session'}`);
console.log(`  ours   median ${secs(m(our, (r) => r.wallMs))} whole process, transfer ${secs(m(our, (r) => r.daemon.ms))}; daemon received ${mib(m(our, (r) => r.daemon.bytes))} (content ${mib(m(our, (r) => r.contentBytes!))}); peak RSS ${peak(our)}`);
console.log(`  buildx median ${secs(m(their, (r) => r.wallMs))} whole process, transfer ${secs(m(their, (r) => r.daemon.ms))}; daemon received ${mib(m(their, (r) => r.daemon.bytes))}; peak RSS ${peak(their)}`);
console.log(`  time ratio ours/buildx: whole process ${(m(our, (r) => r.wallMs) / m(their, (r) => r.wallMs)).toFixed(2)}, transfer ${(m(our, (r) => r.daemon.ms) / m(their, (r) => r.daemon.ms)).toFixed(2)}`);
