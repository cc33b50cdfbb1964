import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { e2eEnvironment, nxBuilders } from './support/daemons';
import { createFixtureWorkspace } from './support/fixture-workspace';
import { repoRoot, type NxWorkspace } from './support/nx-workspace';

// The live view through `nx run-many -t image` in a real terminal (tmux).
// Nx hands all image tasks to one batch worker and pipes its stdout, so the
// view is drawn on the controlling terminal (/dev/tty) of the run; with CI
// set, the same run prints plain lines. The Nx CLI runs under Node, its
// daemon off, its terminal UI off (it would own the screen).

const timeout = 180_000;
/** tmux is a Debian package (e2e/daemons/install.sh installs it, which .ci/run runs). */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;
const builder = nxBuilders()[0];
const skipWhy = !hasTmux ? 'tmux is not installed' : !builder ? 'no builder in the e2e environment' : '';
const nxCli = path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js');

/** A tmux server of our own (-L) running one shell in a 150×40 pane, with `env`. */
function tmuxServer(env: NodeJS.ProcessEnv, cwd: string) {
  const id = `nxbk-live-${randomBytes(4).toString('hex')}`;
  const tmux = (...args: string[]) => spawnSync('tmux', ['-L', id, ...args], { env, encoding: 'utf8' });
  const started = tmux('new-session', '-d', '-s', 'main', '-x', '150', '-y', '40', '-c', cwd, 'bash --norc --noprofile');
  if (started.status !== 0) throw new Error(`tmux new-session failed: ${started.stderr}`);
  const exitFile = path.join(os.tmpdir(), `${id}.exit`);
  return {
    /** Type `command` into the shell, capture the pane every 200 ms until it exits; its exit code and every screen seen. */
    async run(command: string): Promise<{ status: number; screens: string[]; final: string }> {
      fs.rmSync(exitFile, { force: true });
      tmux('send-keys', '-t', 'main', `${command}; echo $? > ${exitFile}`, 'Enter');
      const screens: string[] = [];
      const deadline = Date.now() + 150_000;
      while (!fs.existsSync(exitFile) && Date.now() < deadline) {
        screens.push(tmux('capture-pane', '-p', '-t', 'main').stdout);
        await new Promise((resolve) => setTimeout(resolve, 200));
      }
      const status = fs.existsSync(exitFile) ? Number(fs.readFileSync(exitFile, 'utf8').trim()) : -1;
      return { status, screens, final: tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main').stdout };
    },
    [Symbol.dispose]() {
      tmux('kill-server');
      fs.rmSync(exitFile, { force: true });
    },
  };
}

describe.skipIf(skipWhy !== '')(`the live view through nx run-many in tmux${skipWhy ? ` (skipped: ${skipWhy})` : ` (${builder!.name})`}`, () => {
  let ws: NxWorkspace;
  let env: NodeJS.ProcessEnv;
  const runId = randomBytes(4).toString('hex');
  // A buildkitd has no image store: its base comes from the registry.
  const base = builder?.kind === 'docker' ? 'nxbk-base:latest' : `${e2eEnvironment().registry}/nxbk-base:latest`;

  beforeAll(() => {
    // Slow enough to be seen running; noCache so that every run executes the step.
    const project = (name: string) => ({
      [`${name}/project.json`]: JSON.stringify({ name, targets: { image: { options: { imageName: `nxbk-e2e-live/${name}`, outputs: [{ type: 'cacheonly' }] } } } }),
      [`${name}/Dockerfile`]: `FROM ${base}\nRUN echo ${name}-${runId}; for i in 1 2 3 4; do echo tick $i; sleep 1; done\n`,
    });
    ws = createFixtureWorkspace({ ...project('live-a'), ...project('live-b') }, { options: { builder: builder!.address, network: 'none', noCache: true } });
    env = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_') && k !== 'CI')),
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
    };
  });

  afterAll(() => ws?.[Symbol.dispose]());

  // Nx's default output draws a live region of its own (or its terminal UI owns the screen): the
  // view needs Nx to stream task output instead (--output-style=stream, or --batch).
  test('outside CI, --output-style=stream: the live view (one line per target, the running footer) is drawn in the pane while the batch runs', async () => {
    using tmux = tmuxServer(env, ws.dir);
    const r = await tmux.run(`node ${nxCli} run-many -t image --skip-nx-cache --output-style=stream`);
    expect(r.status, r.final).toBe(0);
    const seen = r.screens.join('\n');
    // Both tasks went to one batch worker (Nx's own line), whose stdout Nx pipes.
    expect(r.final).toMatch(/Running 2 tasks with nx-buildkit:image/);
    // While it ran: the view's footer and each target's line with its step count and current step.
    expect(seen, r.final).toMatch(/^nx-buildkit: [12] running, /m);
    for (const name of ['live-a', 'live-b']) expect(seen, r.final).toMatch(new RegExp(`^\\[${name}\\] \\[\\d+/\\d+\\] .*RUN echo ${name}-${runId}`, 'm'));
    // While the view runs, the plain view's numbered lines are not on screen (Nx prints them as each task's log afterwards).
    const running = r.screens.filter((screen) => /^nx-buildkit: [12] running, /m.test(screen));
    expect(running.filter((screen) => /^\[live-[ab]\] #\d+ /m.test(screen))).toEqual([]);
    // The view ends once, in its final state, above the task logs Nx prints after it, which stay whole.
    expect(r.final.match(/^nx-buildkit: \d+ running, .*$/gm), r.final).toEqual([expect.stringMatching(/^nx-buildkit: 0 running, 0 waiting, 2 done \(/)]);
    for (const name of ['live-a', 'live-b']) expect(r.final).toMatch(new RegExp(`^\\[${name}\\] #\\d+ tick 4\\n\\[${name}\\] #\\d+ DONE [\\d.]+s\\n\\[${name}\\] built nxbk-e2e-live/${name}:latest \\(cache only\\)`, 'm'));
    expect(r.final.indexOf('nx-buildkit: 0 running')).toBeLessThan(r.final.indexOf('> nx run live-'));
    for (const name of ['live-a', 'live-b']) expect(r.final).toMatch(new RegExp(`^\\[${name}\\] done [\\d.]+s: built nxbk-e2e-live/${name}:latest \\(cache only\\)`, 'm'));
  }, timeout);

  test('outside CI with Nx drawing its own view: plain task logs, and --verbose says once why', async () => {
    using tmux = tmuxServer(env, ws.dir);
    const r = await tmux.run(`node ${nxCli} run-many -t image --skip-nx-cache --verbose`);
    expect(r.status, r.final).toBe(0);
    expect(r.screens.join('\n') + r.final).not.toMatch(/^nx-buildkit: \d+ running, /m);
    const why = r.final.match(/nx-buildkit: plain progress \(progress: auto\): .*$/gm) ?? [];
    expect(why).toEqual(['nx-buildkit: plain progress (progress: auto): Nx may draw its own live view on this terminal (no --output-style=stream, --batch or NX_STREAM_OUTPUT=true), so the controlling terminal is not used']);
  }, timeout);

  test('with CI=true the same run prints plain lines, and --verbose says once why there is no live view', async () => {
    using tmux = tmuxServer({ ...env, CI: 'true' }, ws.dir);
    const r = await tmux.run(`node ${nxCli} run-many -t image --skip-nx-cache --output-style=stream --verbose`);
    expect(r.status, r.final).toBe(0);
    const seen = r.screens.join('\n') + r.final;
    expect(seen).not.toMatch(/^nx-buildkit: \d+ running, /m);
    expect(r.final).toMatch(new RegExp(`^\\[live-a\\] #\\d+ \\[\\d+/\\d+\\] RUN echo live-a-${runId}`, 'm'));
    expect(r.final).toMatch(/^\[live-b\] #\d+ tick 4$/m);
    const why = r.final.match(/nx-buildkit: plain progress \(progress: auto\): .*$/gm) ?? [];
    expect(why).toEqual(['nx-buildkit: plain progress (progress: auto): stdout is not a terminal, and CI is set (CI=true), so the controlling terminal is not used']);
  }, timeout);
});
