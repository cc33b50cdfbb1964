/**
 * One load run of the multi-target engine, measured: shared by the soak
 * script (e2e/soak/load.ts) and its trimmed e2e version. Runtime-neutral.
 */
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, type BuildSpec } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import { runTargets } from '../../plugin/engine/index';
import { tempDir } from '../support/files';

/** What to run. */
export interface LoadOptions {
  address: string;
  targets: number;
  concurrency: number;
  /** Distinct context directories the targets share (every 10th target reads its own, isolated). */
  contexts: number;
}

/** What was measured. */
export interface LoadResult {
  seconds: number;
  succeeded: number;
  failed: number;
  /** The first few failure messages. */
  failures: string[];
  /** Open file descriptors of this process: after connecting, at most during the run, after the run. */
  fds: { baseline: number; peak: number; after: number };
  /** Sessions of the client: at most at once during the run, and still open after it. */
  sessions: { peak: number; after: number };
  /** Resident memory: sampled peak during the run, and the process's lifetime high-water mark (VmHWM). */
  rssMb: { before: number; peakSampled: number };
  peakRssMb: number;
  /** Targets that never received a Status update (a lost or refused Status stream). */
  targetsWithoutProgress: number;
  /** Failures mentioning a missing job ("job not found", "no such job", "unknown job"). */
  jobNotFound: number;
  retries: number;
  /** Shared-session numbers: sessions, context transfers, bytes. */
  shared: { sessions: number; diffCopyCalls: number; bytesSent: number };
  /** Checks that failed (empty = all good). */
  problems: string[];
}

const fdCount = () => fs.readdirSync('/proc/self/fd').length;
const rssMb = () => Math.round(process.memoryUsage().rss / 2 ** 20);

/** The process's peak resident set size so far, in MB (Linux VmHWM). */
function vmHwmMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync('/proc/self/status', 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : rssMb();
}

/** Wait until `check` holds or `ms` pass; true when it held. */
async function settle(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  return check();
}

/** Run `options.targets` builds and measure them. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  using tmp = tempDir('nxbk-load-');
  const runId = `${Date.now()}`;
  const contexts = Array.from({ length: Math.max(1, options.contexts) }, (_, c) => makeContext(path.join(tmp.dir, `ctx-${c}`), c));
  const targets: ImageTarget[] = Array.from({ length: options.targets }, (_, i) => {
    const isolated = i % 10 === 9;
    const contextDir = isolated ? makeContext(path.join(tmp.dir, `own-${i}`), 1000 + i) : contexts[i % contexts.length]!;
    const spec: BuildSpec = {
      name: `load-${i}`, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false,
      buildArgs: { N: `${runId}-${i}` }, outputs: [{ type: 'local', dest: path.join(tmp.dir, `out-${i}`) }],
    };
    return { id: `load-${i}`, spec, dependsOn: [], contextPolicy: isolated ? 'isolated' : 'shared' };
  });

  const rssBefore = rssMb();
  await using client = await BuildkitClient.connect({ address: options.address });
  // Baseline once the client's connection is up (it stays open across the run).
  await client.listWorkers();
  const fdBaseline = fdCount();
  let fdPeak = fdBaseline;
  let sessionPeak = 0;
  let rssPeak = rssBefore;
  const sampler = setInterval(() => {
    fdPeak = Math.max(fdPeak, fdCount());
    sessionPeak = Math.max(sessionPeak, client.openSessionCount);
    rssPeak = Math.max(rssPeak, rssMb());
  }, 50);
  const withProgress = new Set<string>();
  let retries = 0;
  const started = Date.now();
  let report;
  try {
    report = await runTargets(client, targets, {
      concurrency: options.concurrency,
      mode: 'keep-going',
      sharedKey: `load-${runId}`,
      onEvent: (e) => {
        if (e.type === 'status' && e.status.vertexes.length) withProgress.add(e.id);
        if (e.type === 'retry') retries++;
      },
    });
  } finally {
    clearInterval(sampler);
  }
  const seconds = Math.round((Date.now() - started) / 100) / 10;
  // Sockets and sessions close asynchronously after the last solve; give them a moment.
  await settle(() => fdCount() <= fdBaseline && client.openSessionCount === 0, 5_000);
  const fdAfter = fdCount();

  const problems: string[] = [];
  const failures = report.outcomes.filter((o) => o.status !== 'succeeded');
  const messages = failures.map((o) => `${o.id}: ${o.status} ${'error' in o ? String((o.error as Error)?.message ?? o.error) : 'reason' in o ? o.reason : ''}`);
  if (failures.length) problems.push(`${failures.length} of ${targets.length} targets did not succeed`);
  for (const [i, t] of targets.entries()) {
    const n = path.join(tmp.dir, `out-${i}`, 'n');
    if (report.outcomes[i]?.status === 'succeeded' && (!fs.existsSync(n) || fs.readFileSync(n, 'utf8').trim() !== t.spec.buildArgs!.N)) problems.push(`${t.id}: exported /n is wrong`);
  }
  if (fdAfter > fdBaseline) problems.push(`open file descriptors: ${fdAfter} after the run, ${fdBaseline} before`);
  if (report.openSessionsAfter !== 0 || client.openSessionCount !== 0) problems.push(`sessions still open after the run: ${client.openSessionCount}`);
  const jobNotFound = messages.filter((m) => /job not found|no such job|unknown job/i.test(m)).length;
  if (jobNotFound) problems.push(`${jobNotFound} "job not found" failures`);
  const targetsWithoutProgress = targets.length - withProgress.size;
  if (targetsWithoutProgress) problems.push(`${targetsWithoutProgress} targets got no progress`);
  return {
    seconds,
    succeeded: targets.length - failures.length,
    failed: failures.length,
    failures: messages.slice(0, 5),
    fds: { baseline: fdBaseline, peak: fdPeak, after: fdAfter },
    sessions: { peak: sessionPeak, after: client.openSessionCount },
    rssMb: { before: rssBefore, peakSampled: rssPeak },
    peakRssMb: vmHwmMb(),
    targetsWithoutProgress,
    jobNotFound,
    retries,
    shared: {
      sessions: report.sharedSessions.length,
      diffCopyCalls: report.sharedSessions.reduce((n, s) => n + s.transfer.diffCopyCalls, 0),
      bytesSent: report.sharedSessions.reduce((n, s) => n + s.transfer.bytesSent, 0),
    },
    problems,
  };
}

/** A small context: 20 files of 16 KiB and a Dockerfile whose RUN step depends on the target. */
function makeContext(dir: string, seed: number): string {
  fs.mkdirSync(path.join(dir, 'data'), { recursive: true });
  for (let f = 0; f < 20; f++) fs.writeFileSync(path.join(dir, 'data', `f${f}.txt`), `${seed}:${f}\n`.repeat(1024));
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM nxbk-base\nARG N\nCOPY data /data\nRUN echo "$N" > /n && ls /data | wc -l > /count\n');
  return dir;
}
