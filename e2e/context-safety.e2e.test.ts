import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { contextSafetyScenarios } from './scenarios/context-safety';
import { nxBuilders } from './support/daemons';
import { tempDir, writeTree } from './support/files';
import { createNxWorkspace, type NxWorkspace } from './support/nx-workspace';
import { describeScenarios } from './support/scenario-suites';

// Engine-level scenarios on every daemon (sessions over Control/Session).
describeScenarios(contextSafetyScenarios, { timeout: 120_000, title: 'context safety' });

// The executor under the real Nx CLI: contexts, Dockerfiles and named
// contexts outside the workspace stop the run before anything starts
// (symlinks resolved) unless `allowOutsideWorkspace` lists them; paths with
// spaces and non-ASCII characters build. On a Docker engine and on buildkitd.
const builders = nxBuilders();
if (builders.length === 0) test.skip('Nx: contexts outside the workspace (skipped: no builder in the e2e environment)', () => {});
for (const builder of builders) describe(`Nx: contexts outside the workspace (${builder.name})`, () => {
  const outside = tempDir('nxbk-e2e-outside-');
  const binary = randomBytes(64 * 1024);
  let ws: NxWorkspace;
  // The executor named explicitly: not every project root holds a file called Dockerfile.
  const project = (name: string, options: Record<string, unknown>) =>
    JSON.stringify({ name, targets: { image: { executor: 'nx-buildkit:image', options: { builder: builder.address, network: 'none', progress: 'plain', outputs: [{ type: 'local', dest: `dist/out/${name}` }], ...options } } } });
  const dockerfile = 'FROM scratch\nCOPY . /\n';

  beforeAll(() => {
    writeTree(outside.dir, { 'shared ctx/Dockerfile': dockerfile, 'shared ctx/from-outside.txt': 'outside\n' });
    ws = createNxWorkspace(
      {
        'apps/out-ctx/project.json': project('out-ctx', { context: path.join('..', path.basename(outside.dir), 'shared ctx') }),
        'apps/out-ctx/Dockerfile': dockerfile,
        'apps/linked/project.json': project('linked', { context: 'apps/linked/ctx', dockerfile: 'apps/linked/Dockerfile' }),
        'apps/linked/Dockerfile': dockerfile,
        'apps/linked/ctx': { symlink: path.join(outside.dir, 'shared ctx') },
        'apps/named/project.json': project('named', { namedContexts: { extra: `local:${path.join(outside.dir, 'shared ctx')}` } }),
        'apps/named/Dockerfile': 'FROM scratch\nCOPY --from=extra from-outside.txt /\n',
        'apps/allowed/project.json': project('allowed', { context: 'apps/linked/ctx', dockerfile: 'apps/allowed/Dockerfile', allowOutsideWorkspace: [outside.dir] }),
        'apps/allowed/Dockerfile': dockerfile,
        'apps/ünï côdé/project.json': project('unicode', { context: 'apps/ünï côdé/ctx dir/ünï côdé', dockerfile: 'apps/ünï côdé/döcker fïles/Dockerfile ñ' }),
        'apps/ünï côdé/döcker fïles/Dockerfile ñ': dockerfile,
        'apps/ünï côdé/ctx dir/ünï côdé/sub dir/ö ü.txt': 'ö ü\n',
      },
      { options: { builder: builder.address, network: 'none', progress: 'plain' } },
    );
    fs.writeFileSync(path.join(ws.dir, 'apps/ünï côdé/ctx dir/ünï côdé/fïlé näme ✓ 😀.bin'), binary);
    ws.git('add', '-A');
    ws.git('commit', '-qm', 'fixture');
  }, 60_000);

  afterAll(() => {
    ws?.[Symbol.dispose]();
    outside[Symbol.dispose]();
  });

  const run = (...projects: string[]) => {
    const r = ws.nx('node', ['run-many', '-t', 'image', `--projects=${projects.join(',')}`, '--output-style=static', '--skip-nx-cache']);
    return { status: r.status, out: r.stdout + r.stderr };
  };

  test('a context, a symlinked context or a local named context outside the workspace is refused before anything starts, naming project, target and field', () => {
    const r = run('out-ctx', 'linked', 'named');
    expect(r.status).not.toBe(0);
    const real = fs.realpathSync(path.join(outside.dir, 'shared ctx'));
    expect(r.out).toContain(`out-ctx:image: option "context": ${real} is outside the workspace root`);
    expect(r.out).toContain(`linked:image: option "context": ${path.join(ws.dir, 'apps/linked/ctx')} (resolves to ${real}) is outside the workspace root`);
    expect(r.out).toContain(`named:image: option "namedContexts.extra": ${real} is outside the workspace root`);
    expect(r.out).toContain('invalid options, not built');
    for (const p of ['out-ctx', 'linked', 'named']) expect(fs.existsSync(path.join(ws.dir, 'dist/out', p))).toBe(false);
  }, 180_000);

  test('allowOutsideWorkspace lets the listed directory through', () => {
    const r = run('allowed');
    expect(r.status, r.out).toBe(0);
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/allowed/from-outside.txt'), 'utf8')).toBe('outside\n');
  }, 180_000);

  test('a context directory, Dockerfile path and file names with spaces and non-ASCII characters build, byte for byte', () => {
    const r = run('unicode');
    expect(r.status, r.out).toBe(0);
    expect(r.out).toContain('nx run unicode:image');
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/unicode/fïlé näme ✓ 😀.bin')).equals(binary)).toBe(true);
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/unicode/sub dir/ö ü.txt'), 'utf8')).toBe('ö ü\n');
  }, 180_000);
});
