/**
 * bench/filesync: how fast a large build context reaches the daemon, our
 * client against `docker buildx build` (Debian's docker-buildx plugin) on the
 * same Docker engine, alternating, in one run. Both build the same
 * Dockerfile, whose only step bind-mounts the whole context (so all of it is
 * transferred and nothing is copied or exported); the daemon's build cache is
 * pruned before every run so each one transfers everything.
 *
 * Env: BENCH_FILES (default 50000), BENCH_BYTES (default 1 GiB), BENCH_RUNS
 * (default 3), BENCH_DAEMON (default docker-28, from e2e/daemons), BENCH_DIR.
 * Needs the daemons of e2e/daemons/up.sh (for the buildx plugin too).
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitClient } from '../../plugin/buildkit/index';
import { daemonsHome, e2eEnvironment } from '../../e2e/support/daemons';
import { generateContext } from './generate-context';

const files = Number(process.env.BENCH_FILES ?? 50_000);
const bytes = Number(process.env.BENCH_BYTES ?? 1024 ** 3);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const daemonName = process.env.BENCH_DAEMON ?? 'docker-28';
const contextDir = process.env.BENCH_DIR ?? path.join(os.tmpdir(), `nxbk-bench-context-${files}-${bytes}`);

const daemon = e2eEnvironment().daemons.find((d) => d.name === daemonName);
if (!daemon) throw new Error(`daemon ${daemonName} is not running (bash e2e/daemons/up.sh)`);
const socket = daemon.address.replace(/^docker:\/\//, '');
const buildx = path.join(daemonsHome(), 'pkgs', 'buildx', 'usr', 'libexec', 'docker', 'cli-plugins', 'docker-buildx');
const buildxConfig = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-bench-buildx-'));

console.log(`generating ${files} files, ${(bytes / 1024 ** 2).toFixed(0)} MiB in ${contextDir} …`);
generateContext(contextDir, { files, bytes });

async function prune(): Promise<void> {
  await using client = await BuildkitClient.connect({ address: daemon!.address });
  await client.control.prune({ all: true });
}

function ours(): { ms: number; bytes: number; rssMb: number } {
  const r = spawnSync('bun', [path.join(import.meta.dir, 'our-transfer.ts'), daemon!.address, contextDir], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`our build failed:\n${r.stderr}${r.stdout}`);
  const line = JSON.parse(r.stdout.trim().split('\n').at(-1)!) as { elapsedMs: number; bytes: number; maxRssKb: number };
  return { ms: line.elapsedMs, bytes: line.bytes, rssMb: line.maxRssKb / 1024 };
}

function theirs(): { ms: number; transferred: string } {
  const start = performance.now();
  const r = spawnSync(buildx, ['build', '--network', 'none', '--progress=plain', '--output', 'type=cacheonly', contextDir], {
    encoding: 'utf8',
    env: { ...process.env, DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: buildxConfig },
  });
  const ms = performance.now() - start;
  if (r.status !== 0) throw new Error(`buildx failed:\n${r.stderr}`);
  // Several transfers are reported (Dockerfile, .dockerignore, context): the context is the largest.
  const units: Record<string, number> = { B: 1, kB: 1e3, MB: 1e6, GB: 1e9 };
  const sizes = [...r.stderr.matchAll(/transferring context: ([\d.]+)([kMG]?B) done/g)].map((m) => Number(m[1]) * units[m[2]!]!);
  const largest = Math.max(0, ...sizes);
  return { ms, transferred: `${(largest / 1024 ** 2).toFixed(1)} MiB` };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const our: Array<ReturnType<typeof ours>> = [];
const their: Array<ReturnType<typeof theirs>> = [];
for (let i = 0; i < runs; i++) {
  await prune();
  our.push(ours());
  await prune();
  their.push(theirs());
  console.log(`run ${i + 1}: ours ${our.at(-1)!.ms.toFixed(0)} ms (${(our.at(-1)!.bytes / 1024 ** 2).toFixed(0)} MiB sent, peak RSS ${our.at(-1)!.rssMb.toFixed(0)} MB) | buildx ${their.at(-1)!.ms.toFixed(0)} ms (${their.at(-1)!.transferred})`);
}
const ratio = median(our.map((r) => r.ms)) / median(their.map((r) => r.ms));
console.log(`\nfilesync benchmark on ${daemonName}: ${files} files, ${(bytes / 1024 ** 2).toFixed(0)} MiB, ${runs} runs each`);
console.log(`  ours   median ${median(our.map((r) => r.ms)).toFixed(0)} ms, sent ${(median(our.map((r) => r.bytes)) / 1024 ** 2).toFixed(1)} MiB, peak RSS ${Math.max(...our.map((r) => r.rssMb)).toFixed(0)} MB`);
console.log(`  buildx median ${median(their.map((r) => r.ms)).toFixed(0)} ms, transferred ${their.at(-1)!.transferred}`);
console.log(`  time ratio ours/buildx = ${ratio.toFixed(2)}`);
fs.rmSync(buildxConfig, { recursive: true, force: true });
