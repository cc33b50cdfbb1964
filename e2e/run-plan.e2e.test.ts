// The printed plan is the plan that runs: `nx run-many -t image --print=json`
// and then the run itself, through Nx, on every daemon and so on every way a
// builder binds the shared context (local-sessionid: docker-28 and buildkitd;
// LLB frontend inputs: docker-26; the prefetch: docker-20). The run's verbose
// report says what each shared session was asked by the daemon; it must be
// exactly the sessions and local names the printed plan has. One target has
// a .dockerignore, two share a context with their Dockerfiles outside it.
import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { RunPlan } from '../plugin/engine/index';
import { e2eEnvironment } from './support/daemons';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

const timeout = 240_000;

/** The local names a planned session's targets read, as the daemon should ask for them. */
function plannedNames(plan: RunPlan, session: number): string[] {
  const names = new Set<string>();
  for (const t of plan.targets) {
    const s = t.source;
    if (!s || s.session !== session) continue;
    if (s.kind === 'local-sessionid') names.add('context').add(s.dockerfileLocal);
    else {
      names.add(s.context.localName);
      if (s.dockerfile !== 'context') names.add(s.dockerfile.localName);
    }
  }
  return [...names].sort();
}

const daemons = e2eEnvironment().daemons;
if (daemons.length === 0) test.skip('the printed plan is the plan that runs (skipped: no daemon in the e2e environment)', () => {});
for (const daemon of daemons) describe(`the printed plan is the plan that runs (${daemon.name})`, () => {
  const runId = randomBytes(4).toString('hex');
  let ws: NxWorkspace;

  beforeAll(() => {
    const project = (name: string, options: Record<string, unknown>) => ({
      [`${name}/project.json`]: JSON.stringify({ name, targets: { image: { options: { imageName: `nxbk-e2e-plan-${runId}/${name}`, outputs: [{ type: 'local', dest: `dist/out/${name}` }], ...options } } } }),
    });
    ws = createFixtureWorkspace(
      {
        'shared/data.txt': `shared ${runId}\n`,
        ...project('pa', { context: 'shared', dockerfile: 'pa/Dockerfile' }),
        'pa/Dockerfile': 'FROM scratch\nCOPY data.txt /pa.txt\n',
        ...project('pb', { context: 'shared', dockerfile: 'pb/Dockerfile' }),
        'pb/Dockerfile': 'FROM scratch\nCOPY data.txt /pb.txt\n',
        ...project('pc', {}),
        'pc/Dockerfile': 'FROM scratch\nCOPY . /\n',
        'pc/.dockerignore': 'ignored.txt\n',
        'pc/kept.txt': `kept ${runId}\n`,
        'pc/ignored.txt': 'must not be sent\n',
      },
      { options: { builder: daemon.address, network: 'none', progress: 'plain' } },
    );
  });

  afterAll(() => ws?.[Symbol.dispose]());

  test('--print=json, then the run: the same binding, the same shared sessions, each asked for exactly its planned local names', () => {
    const printed = ws.nx('node', ['run-many', '-t', 'image', '--print=json', '--skip-nx-cache', '--output-style=static']);
    expect(printed.status, printed.stdout + printed.stderr).toBe(0);
    const line = printed.stdout.split('\n').find((l) => l.startsWith('{"plan":'));
    expect(line, printed.stdout).toBeDefined();
    const { plan } = JSON.parse(line!) as { plan: RunPlan };
    // Never a session ID: sessions get theirs when they open.
    expect(line).not.toMatch(/"session(Id)?":\s*"/);
    expect(plan.targets.map((t) => t.id).sort()).toEqual(['pa:image', 'pb:image', 'pc:image']);
    expect(plan.binding).toMatch(/^(local-sessionid|frontend-inputs|prefetch)$/);
    // One session per context directory, or one for the run.
    expect(plan.sessions).toHaveLength(plan.binding === 'local-sessionid' ? 2 : 1);
    const pc = plan.targets.find((t) => t.id === 'pc:image')!.source!;
    if (pc.kind === 'frontend-inputs') expect(pc.context.excludePatterns).toEqual(['ignored.txt', '!Dockerfile']);

    const run = ws.nx('node', ['run-many', '-t', 'image', '--skip-nx-cache', '--output-style=static', '--verbose']);
    const out = run.stdout + run.stderr;
    expect(run.status, out).toBe(0);
    const summary = out.match(/nx-buildkit: 3 image\(s\) in one run, binding (\S+), (\d+) shared session\(s\)/);
    expect(summary, out).not.toBeNull();
    expect(summary![1]).toBe(plan.binding);
    expect(Number(summary![2])).toBe(plan.sessions.length);
    const sessions = [...out.matchAll(/nx-buildkit: shared session (\d+): opened (\d+) time\(s\), local names requested: (.*)$/gm)];
    expect(sessions.map((m) => Number(m[1]))).toEqual(plan.sessions.map((_, i) => i + 1));
    for (const [i, m] of sessions.entries()) {
      expect(Number(m[2]), `session ${i + 1} opened once`).toBe(1);
      expect(m[3]!.split(', ').sort(), `session ${i + 1}`).toEqual(plannedNames(plan, i));
    }
    // What the plan says was sent is what the images hold.
    const outDir = path.join(ws.dir, 'dist/out');
    expect(fs.readFileSync(path.join(outDir, 'pa/pa.txt'), 'utf8')).toBe(`shared ${runId}\n`);
    expect(fs.readFileSync(path.join(outDir, 'pb/pb.txt'), 'utf8')).toBe(`shared ${runId}\n`);
    expect(fs.readFileSync(path.join(outDir, 'pc/kept.txt'), 'utf8')).toBe(`kept ${runId}\n`);
    expect(fs.existsSync(path.join(outDir, 'pc/ignored.txt'))).toBe(false);
  }, timeout);
});
