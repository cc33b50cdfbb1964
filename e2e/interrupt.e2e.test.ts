import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { daemonPidFile, e2eEnvironment } from './support/daemons';
import { removeImagesUnder } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxRuntime, NxWorkspace } from './support/nx-workspace';

// Ctrl-C and SIGTERM to a real `nx run-many -t image` while its builds run
// on a real Docker engine or buildkitd: Nx must exit within 5 s with a failure, the
// daemon must stop every RUN step of the run (checked on the daemon: the
// step's processes below the engine's dockerd or below buildkitd), no metadata file may claim
// an interrupted target succeeded, and no process of the run may remain.
//
// Which signal goes where, as it happens outside tests:
// - SIGINT to the whole process group: a terminal's Ctrl-C signals the
//   foreground process group, so Nx and its batch worker receive it at once.
// - SIGTERM to the Nx process only: `kill <pid>`, a CI runner cancelling a
//   job step, `docker stop` or systemd stopping a service signal one process,
//   and Nx has to pass it on to its worker itself.

const env = e2eEnvironment();
// Local daemons whose processes this machine can see: the newest and the
// oldest engine (BuildKit 0.8, whose shared contexts are prefetched by a solve
// of their own) and the standalone buildkitd (its RUN steps run below it).
const local = env.daemons.filter((d) => fs.existsSync(daemonPidFile(d)));
const localEngines = local.filter((d) => d.kind === 'docker');
const engines = [...new Set([localEngines[0], localEngines.at(-1), local.find((d) => d.kind === 'buildkitd')])].filter((d) => d !== undefined);
const runId = randomBytes(4).toString('hex');
const projects = ['slow-a', 'slow-b', 'slow-c'];

/** Live processes: pid → [parent pid, command line]. */
function processTable(): Map<number, [number, string]> {
  const table = new Map<number, [number, string]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z') continue;
      table.set(Number(name), [Number(fields[1]), fs.readFileSync(`/proc/${name}/cmdline`, 'utf8').replaceAll('\0', ' ')]);
    } catch {
      // Gone meanwhile.
    }
  }
  return table;
}

/** Processes running `marker` below the engine's dockerd (BuildKit runs RUN steps with runc as its children). */
function stepsOnDaemon(dockerdPid: number, marker: string): number[] {
  const table = processTable();
  const below = (pid: number) => {
    for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
      if (p === dockerdPid) return true;
      p = table.get(p)?.[0] ?? 0;
    }
    return false;
  };
  return [...table].filter(([pid, [, cmd]]) => cmd.includes(marker) && below(pid)).map(([pid]) => pid);
}

/** Processes whose working directory is the workspace (Nx, its batch worker, anything they started there). */
function processesIn(dir: string): string[] {
  const out: string[] = [];
  for (const [pid, [, cmd]] of processTable()) {
    try {
      if (fs.readlinkSync(`/proc/${pid}/cwd`) === dir) out.push(`${pid} ${cmd}`);
    } catch {
      // Gone, or not ours to read.
    }
  }
  return out;
}

async function waitUntil(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 100));
  }
  return true;
}

const exited = (child: ChildProcess) =>
  new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });

if (engines.length === 0) test.skip('Nx interrupted mid-run (skipped: needs a local daemon of e2e/daemons/up.sh)', () => {});

for (const docker of engines) for (const runtime of ['node', 'bun'] as const satisfies readonly NxRuntime[]) {
  describe(`Nx interrupted mid-run, CLI under ${runtime} (${docker.name})`, () => {
    const prefix = `nxbk-e2e-int-${runId}-${runtime}-${docker.name}`;
    const dockerdPid = Number(fs.readFileSync(daemonPidFile(docker), 'utf8').trim());
    let ws: NxWorkspace;
    const metadataOf = (p: string) => path.join(ws.dir, 'dist/images/apps', p, 'metadata.json');

    beforeAll(() => {
      const tree: Record<string, string> = {};
      for (const p of projects) {
        tree[`apps/${p}/project.json`] = JSON.stringify({ name: p, targets: { image: { options: { imageName: `${prefix}/${p}` } } } });
        tree[`apps/${p}/Dockerfile`] = `FROM nxbk-base:latest\nRUN echo ${p}\n`;
      }
      ws = createFixtureWorkspace(tree, { options: { builder: docker.address, network: 'none', progress: 'plain' } });
      // A successful run first: each target has a metadata file from it.
      const r = ws.nx(runtime, ['run-many', '-t', 'image', '--output-style=static']);
      if (r.status !== 0) throw new Error(`the first run failed:\n${r.stdout}\n${r.stderr}`);
      for (const p of projects) if (!fs.existsSync(metadataOf(p))) throw new Error(`no metadata for ${p} after the first run`);
    }, 180_000);

    afterAll(async () => {
      // A Docker engine keeps the built images (classic store); buildkitd has no image store.
      if (docker.kind === 'docker') await removeImagesUnder(docker.address.replace(/^docker:\/\//, ''), prefix);
      ws?.[Symbol.dispose]();
    });

    /** Start `args`, wait until the RUN steps of `built` run on the daemon, send `signal`, check what is left. */
    async function interrupt(args: string[], built: readonly string[], signal: 'SIGTERM' | 'SIGINT'): Promise<void> {
      // A sleep length unique to this test, to find exactly its RUN steps on the daemon.
      const seconds = 1000 + (Number.parseInt(randomBytes(2).toString('hex'), 16) % 8000);
      const marker = `sleep ${seconds}`;
      for (const p of built) ws.write({ [`apps/${p}/Dockerfile`]: `FROM nxbk-base:latest\nRUN echo ${p} && ${marker}\n` });
      // Its own process group, as a shell gives a foreground job.
      const child = ws.spawnNx(runtime, [...args, '--output-style=static'], { detached: true });
      let out = '';
      child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
      const exit = exited(child);
      try {
        const started = await waitUntil(() => stepsOnDaemon(dockerdPid, marker).length >= built.length || child.exitCode !== null, 90_000);
        expect(started && child.exitCode === null, `all ${built.length} RUN steps are running on the daemon:\n${out}`).toBe(true);
        // The metadata of the first run is gone once a target's build starts.
        for (const p of built) expect(fs.existsSync(metadataOf(p)), `${p}: metadata of the earlier run removed when the build started`).toBe(false);
        const before = processesIn(ws.dir);
        expect(before.length, `Nx and its executor process run in the workspace: ${before.join('; ')}`).toBeGreaterThanOrEqual(2);

        const signalledAt = Date.now();
        if (signal === 'SIGINT') process.kill(-child.pid!, 'SIGINT');
        else process.kill(child.pid!, 'SIGTERM');
        const result = await Promise.race([exit, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 5_000))]);
        const took = Date.now() - signalledAt;
        expect(result, `Nx exited within 5 s of the signal:\n${out}`).not.toBe('timeout');
        if (result === 'timeout') return;
        expect(result.code !== 0 || result.signal !== null, `Nx exited with a failure (${JSON.stringify(result)})`).toBe(true);

        const stopped = await waitUntil(() => stepsOnDaemon(dockerdPid, marker).length === 0, Math.max(0, 5_000 - (Date.now() - signalledAt)));
        expect(stopped, `no RUN step of the run is still running on the daemon 5 s after the signal (pids ${stepsOnDaemon(dockerdPid, marker).join(', ')})`).toBe(true);
        for (const p of built) expect(fs.existsSync(metadataOf(p)), `${p}: no metadata from the interrupted build`).toBe(false);
        expect(processesIn(ws.dir), `no process of the run is left (Nx exited after ${took} ms)`).toEqual([]);
      } finally {
        try {
          process.kill(-child.pid!, 'SIGKILL');
        } catch {
          // Already gone, as it should be.
        }
      }
    }

    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const how = signal === 'SIGINT' ? 'Ctrl-C (SIGINT to the process group)' : 'SIGTERM to the Nx process';
      test(`run-many, ${how}: Nx exits within 5 s with a failure, the daemon runs none of the steps, no metadata claims success, no process is left`, () => interrupt(['run-many', '-t', 'image'], projects, signal), 180_000);
    }
    test('nx run of one target (the single-task executor), SIGTERM to the Nx process: the same', () => interrupt(['run', 'slow-a:image'], ['slow-a'], 'SIGTERM'), 180_000);

    test('after the interruptions the same run builds everything again', () => {
      for (const p of projects) ws.write({ [`apps/${p}/Dockerfile`]: `FROM nxbk-base:latest\nRUN echo ${p} again\n` });
      const r = ws.nx(runtime, ['run-many', '-t', 'image', '--output-style=static']);
      expect(r.status, r.stdout + r.stderr).toBe(0);
      for (const p of projects) expect(fs.existsSync(metadataOf(p))).toBe(true);
    }, 180_000);
  });
}
