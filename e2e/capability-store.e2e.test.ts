import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { e2eEnvironment } from './support/daemons';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

// Capabilities remembered across runs (node_modules/.cache/nx-buildkit/
// capabilities.json): the first run on a builder probes how locals bind to
// the shared session and keeps the answer under the builder's identity; the
// next run takes it from there and starts its first solve without the probe
// (seen in the executor's NXBK_DEBUG_TIMING phases). A wrong answer written
// into the file still builds the right files: a weaker binding than the
// daemon's works as it is, a stronger one fails its solves, is probed again,
// and the targets are built again with the probed binding. On every selected
// daemon (Docker engines and buildkitd), with local outputs.

const timeout = 180_000;
const daemons = e2eEnvironment().daemons;
const runId = randomBytes(4).toString('hex');
const storeFile = (ws: NxWorkspace) => path.join(ws.dir, 'node_modules/.cache/nx-buildkit/capabilities.json');
type Stored = { version: number; builders: Record<string, { binding?: string; namedContexts?: boolean }> };

if (daemons.length === 0) test.skip('capabilities remembered across runs (skipped: no daemon in the e2e environment)', () => {});
for (const daemon of daemons) describe(`capabilities remembered across runs (${daemon.name})`, () => {
  let ws: NxWorkspace;
  const project = (name: string) =>
    JSON.stringify({ name, targets: { image: { executor: 'nx-buildkit:image', options: { context: 'shared', dockerfile: `apps/${name}/Dockerfile`, outputs: [{ type: 'local', dest: `dist/out/${name}` }] } } } });
  const dockerfile = (name: string) => `FROM scratch\nCOPY . /src/\nLABEL run=${runId} name=${name}\n`;

  beforeAll(() => {
    ws = createFixtureWorkspace(
      {
        'apps/cap-a/project.json': project('cap-a'),
        'apps/cap-a/Dockerfile': dockerfile('cap-a'),
        'apps/cap-b/project.json': project('cap-b'),
        'apps/cap-b/Dockerfile': dockerfile('cap-b'),
        'shared/hello.txt': 'first\n',
        'shared/deep/er/file.txt': 'deep\n',
      },
      { options: { builder: daemon.address, network: 'none', progress: 'plain' } },
      { NXBK_DEBUG_TIMING: '1' },
    );
  }, 60_000);

  afterAll(() => ws?.[Symbol.dispose]());

  const run = () => {
    const r = ws.nx('node', ['run-many', '-t', 'image', '--output-style=static', '--skip-nx-cache']);
    const out = r.stdout + r.stderr;
    const binding = /nx-buildkit: 2 image\(s\) in one run, binding (\S+),/.exec(out)?.[1];
    return { status: r.status, out, binding };
  };
  const built = (name: string, file: string) => fs.readFileSync(path.join(ws.dir, 'dist/out', name, 'src', file), 'utf8');
  const stored = () => JSON.parse(fs.readFileSync(storeFile(ws), 'utf8')) as Stored;
  const changeContext = (text: string) => fs.writeFileSync(path.join(ws.dir, 'shared/hello.txt'), text);
  let probed: string | undefined;

  test('the first run probes the builder and keeps the answer under its identity', () => {
    const r = run();
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('capabilities: binding probe starts');
    probed = r.binding;
    expect(probed).toMatch(/^(local-sessionid|frontend-inputs|prefetch)$/);
    const entries = Object.entries(stored().builders);
    expect(entries.length).toBe(1);
    const [identity, answers] = entries[0]!;
    expect(identity).toMatch(daemon.kind === 'docker' ? /^docker engine \S+ \S+/ : /^buildkitd \S+ workers \S+/);
    expect(answers.binding).toBe(probed!);
    for (const name of ['cap-a', 'cap-b']) {
      expect(built(name, 'hello.txt')).toBe('first\n');
      expect(built(name, 'deep/er/file.txt')).toBe('deep\n');
    }
  }, timeout);

  test('the next run takes the remembered answer: no probe before its first solve, the images hold the new files', () => {
    changeContext('second\n');
    const r = run();
    expect(r.status, r.out).toBe(0);
    expect(r.out).not.toContain('capabilities: binding probe starts');
    expect(r.out).toContain(`capabilities: binding remembered (${probed})`);
    expect(r.binding).toBe(probed!);
    for (const name of ['cap-a', 'cap-b']) expect(built(name, 'hello.txt')).toBe('second\n');
  }, timeout);

  test('--print says the binding was remembered', () => {
    const r = ws.nx('node', ['run-many', '-t', 'image', '--print', '--skip-nx-cache', '--output-style=static']);
    expect(r.status, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain(`  binding: ${probed} (remembered from an earlier run)\n`);
  }, timeout);

  test('a wrong answer in the file still builds the right files (a stronger binding than the daemon takes is probed again)', () => {
    const wrong = probed === 'local-sessionid' ? 'prefetch' : 'local-sessionid';
    const content = stored();
    for (const answers of Object.values(content.builders)) answers.binding = wrong;
    fs.writeFileSync(storeFile(ws), JSON.stringify(content));
    changeContext(`third ${wrong}\n`);
    const r = run();
    expect(r.status, r.out).toBe(0);
    for (const name of ['cap-a', 'cap-b']) expect(built(name, 'hello.txt')).toBe(`third ${wrong}\n`);
    if (wrong === 'local-sessionid') {
      // The daemon reads no context from another session that way: probed again, built with the answer, which is kept.
      expect(r.out).toContain(`remembered binding local-sessionid was wrong, probed ${probed}`);
      expect(r.binding).toBe(probed!);
      expect(Object.values(stored().builders).map((a) => a.binding)).toEqual([probed]);
    } else {
      // A weaker binding works on a newer daemon: it is used as it is.
      expect(r.binding).toBe(wrong);
    }
  }, timeout);
});
