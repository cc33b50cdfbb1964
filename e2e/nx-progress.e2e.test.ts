import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { nxBuilders } from './support/daemons';
import { createFixtureWorkspace } from './support/fixture-workspace';
import { repoRoot, type NxRun, type NxWorkspace } from './support/nx-workspace';

// Progress modes, the aggregated metadata file and secret redaction, as a
// user of the Nx executor sees them: the real Nx CLI (under Node) on a
// fixture workspace whose builds print their secrets on purpose. One engine
// (the rendering is ours, not the daemon's): docker-28c when it is there (its
// containerd store has the oci exporter the metadata test needs), else the
// first Docker engine; and the standalone buildkitd, whose progress stream
// (its own vertex and log order) goes through the same renderers.
//
// What "never leaks" covers: the exact secret value, and each line of a
// multi-line one. A build that transforms the value first (base64, split
// into pieces, reversed…) prints something we cannot recognise; that is out
// of scope, as it is for every CI log masker.

const timeout = 180_000;
const builders = nxBuilders((d) => d.imageStore === 'containerd');
/** tmux drives the live view's test (e2e/daemons/install.sh installs it). */
const hasTmux = spawnSync('tmux', ['-V']).status === 0;

const envSecret = `nxbk-leak-env-${randomBytes(8).toString('hex')}`;
const fileLines = [`nxbk-leak-file-a-${randomBytes(6).toString('hex')}`, `nxbk-leak-file-b-${randomBytes(6).toString('hex')}`];
const fileSecret = `${fileLines.join('\n')}\n`;
/** Every form of the secrets that must never appear. */
const forbidden = [envSecret, fileSecret, ...fileLines];
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** A Dockerfile whose build prints the secret every way it can (stdout, stderr, inside a line) and exports proof that it read it. */
const echoing = [
  'FROM nxbk-base:latest AS build',
  'RUN --mount=type=secret,id=s cat /run/secrets/s; echo; echo "again: $(cat /run/secrets/s) end"; cat /run/secrets/s >&2; echo >&2; sha256sum /run/secrets/s | cut -d" " -f1 > /proof',
  'FROM scratch',
  'COPY --from=build /proof /proof',
  '',
].join('\n');

/** Every regular file under `dir` (recursively; none if `dir` does not exist) whose bytes satisfy `test`. */
function filesWhere(dir: string, test: (bytes: Buffer) => boolean): string[] {
  const hits: string[] = [];
  const walk = (d: string) => {
    if (!fs.existsSync(d)) return;
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const abs = path.join(d, entry.name);
      if (entry.isDirectory()) walk(abs);
      else if (entry.isFile() && test(fs.readFileSync(abs))) hits.push(abs);
    }
  };
  walk(dir);
  return hits;
}

/** Every file under `dir` that contains one of the secrets (bytes, so binary files such as Nx's database count too). */
const filesWithSecrets = (dir: string) => filesWhere(dir, (bytes) => forbidden.some((s) => bytes.includes(Buffer.from(s))));

/** Files under `dir` whose text contains `marker`. */
const filesContaining = (dir: string, marker: string) => filesWhere(dir, (bytes) => bytes.toString('utf8').includes(marker));

const leaks = (text: string) => forbidden.filter((s) => text.includes(s));

if (builders.length === 0) test.skip('progress modes through the Nx executor (skipped: no builder in the e2e environment)', () => {});
for (const docker of builders) describe(`progress modes, aggregated metadata and secret redaction through the Nx executor (${docker.name})`, () => {
  // The oci exporter: buildkitd, or an engine with the containerd image store.
  const hasOci = docker.kind === 'buildkitd' || docker.imageStore === 'containerd';
  let ws: NxWorkspace;
  /** Where Nx keeps this workspace's cache and task logs (Nx 24: under ~/.nx/<workspace hash>/cache). */
  let nxCache: string;
  /** The environment Nx runs with (the harness's, for runs started outside it). */
  let nxEnv: NodeJS.ProcessEnv;
  const nx = (...args: string[]): NxRun & { out: string } => {
    const r = ws.nx('node', [...args, '--output-style=static']);
    return { ...r, out: r.stdout + r.stderr };
  };

  beforeAll(() => {
    const project = (name: string, options: Record<string, unknown>) => JSON.stringify({ name, targets: { image: { options: { imageName: `nxbk-e2e-progress/${name}`, ...options } } } });
    ws = createFixtureWorkspace(
      {
        '.gitignore': 'node_modules\ndist\n.nx\n.secrets\n',
        '.secrets/s.txt': fileSecret,
        'leak-env/project.json': project('leak-env', { secrets: [{ id: 's', env: 'NXBK_LEAK_SECRET' }], outputs: [{ type: 'local', dest: 'dist/out/leak-env' }] }),
        'leak-env/Dockerfile': echoing,
        'leak-file/project.json': project('leak-file', { secrets: [{ id: 's', file: '.secrets/s.txt' }], outputs: [{ type: 'local', dest: 'dist/out/leak-file' }] }),
        'leak-file/Dockerfile': echoing,
        // Fails in the step that prints the secret: the error quotes the step's last lines.
        // Slow enough to be seen running, then the same secret-printing steps.
        'live/project.json': project('live', { secrets: [{ id: 's', env: 'NXBK_LEAK_SECRET' }], outputs: [{ type: 'local', dest: 'dist/out/live' }] }),
        'live/Dockerfile': echoing.replace('AS build\n', 'AS build\nRUN for i in 1 2 3 4 5; do echo "tick $i"; sleep 1; done\n'),
        'leak-fail/project.json': project('leak-fail', { secrets: [{ id: 's', env: 'NXBK_LEAK_SECRET' }] }),
        'leak-fail/Dockerfile': 'FROM nxbk-base:latest\nRUN --mount=type=secret,id=s echo "about to fail with $(cat /run/secrets/s)"; exit 3\n',
        ...(hasOci
          ? {
              'img/project.json': project('img', { outputs: [{ type: 'oci', dest: 'dist/oci/img.tar' }] }),
              'img/Dockerfile': 'FROM nxbk-base:latest\nRUN echo built > /built\n',
            }
          : {}),
      },
      // noCache: every run executes the step that prints the secrets (a cached step prints nothing).
      { options: { builder: docker.address, network: 'none', noCache: true, bakeMetadataFile: 'dist/bake.json' } },
      { NXBK_LEAK_SECRET: envSecret },
    );
    const probe = spawnSync('node', ['-e', "process.stdout.write(require('nx/src/utils/cache-directory').cacheDir)"], { cwd: ws.dir, encoding: 'utf8' });
    nxCache = probe.stdout.trim() || path.join(ws.dir, '.nx', 'cache');
    nxEnv = {
      ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('NX_') && k !== 'CI')),
      NX_DAEMON: 'false',
      NX_NO_CLOUD: 'true',
      NX_TUI: 'false',
      NXBK_LEAK_SECRET: envSecret,
    };
  });

  afterAll(() => {
    ws?.[Symbol.dispose]();
    // Nx keeps this workspace's cache outside it; it holds nothing once the workspace is gone.
    if (nxCache && !nxCache.startsWith(ws?.dir ?? '/nonexistent')) fs.rmSync(path.dirname(nxCache), { recursive: true, force: true });
  });

  /** Everything a leak check looks at after a run: Nx's output, the workspace's files (metadata, reports, bake file, Nx data), Nx's cache and task logs. */
  function expectNoLeak(out: string): void {
    expect(leaks(out), 'stdout/stderr of nx').toEqual([]);
    expect(filesWithSecrets(path.join(ws.dir, 'dist')), 'dist/ (metadata, build reports, the bake file, exported output)').toEqual([]);
    expect(filesWithSecrets(path.join(ws.dir, '.nx')), '.nx/ (Nx workspace data)').toEqual([]);
    expect(filesWithSecrets(nxCache), 'Nx cache and task logs').toEqual([]);
  }

  /** The build read the secrets: the exported output holds their hashes. */
  function expectSecretsRead(): void {
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/leak-env/proof'), 'utf8').trim()).toBe(sha256(envSecret));
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/leak-file/proof'), 'utf8').trim()).toBe(sha256(fileSecret));
  }

  for (const mode of ['plain', 'json', 'quiet', 'auto'] as const) {
    test(`--progress=${mode}: the builds print their secrets, yet no output, task log or file holds them`, () => {
      // A change to each project's files: Nx runs the tasks again (and keeps their logs under a new hash).
      for (const p of ['leak-env', 'leak-file', 'leak-fail']) fs.writeFileSync(path.join(ws.dir, p, 'run.txt'), `${mode}\n`);
      fs.rmSync(path.join(ws.dir, 'dist/out'), { recursive: true, force: true });
      const r = nx('run-many', '-t', 'image', '-p', 'leak-env', 'leak-file', 'leak-fail', `--progress=${mode}`);
      expect(r.status, r.out).not.toBe(0);
      expectSecretsRead();
      expectNoLeak(r.out);
      // The failure is reported, its quoted output redacted.
      expect(r.out).toContain('about to fail with <redacted>');
      expect(r.out).toMatch(/leak-fail:image/);

      // Nx kept each task's log; the ones of this run hold the redacted lines of the builds.
      const logs = filesContaining(path.join(nxCache, 'terminalOutputs'), `[leak-env] #`);
      expect(logs.length, `task logs under ${nxCache}/terminalOutputs`).toBeGreaterThan(0);
      expect(logs.some((f) => fs.readFileSync(f, 'utf8').includes('again: <redacted> end'))).toBe(true);

      // Per-target metadata and build reports were written; the run's one bake file lists the successes only.
      for (const p of ['leak-env', 'leak-file']) {
        const md = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/images', p, 'metadata.json'), 'utf8')) as { project: string };
        expect(md.project).toBe(p);
        expect(fs.existsSync(path.join(ws.dir, 'dist/images', p, 'build-report.json'))).toBe(true);
      }
      const bake = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/bake.json'), 'utf8')) as Record<string, Record<string, unknown>>;
      expect(Object.keys(bake).sort()).toEqual(['leak-env', 'leak-file']);
      expect(bake['leak-env']!['buildx.build.ref']).toMatch(/^nx-buildkit\/nx-buildkit0\/[0-9a-z]{25}$/);

      const stdout = r.stdout.split('\n');
      if (mode === 'plain' || mode === 'auto') {
        // auto: the batch worker's stdout is Nx's pipe, not a terminal, so plain lines prefixed with the project.
        expect(stdout.some((l) => l.startsWith('[leak-env] #') && l.includes('again: <redacted> end'))).toBe(true);
        expect(r.out).toMatch(/nx-buildkit: 3 image\(s\) in one run/);
      }
      if (mode === 'json') {
        const events = stdout.filter((l) => l.startsWith('{"time"')).map((l) => JSON.parse(l) as Record<string, unknown>);
        const of = (target: string, type: string) => events.filter((e) => e.target === target && e.type === type);
        // Steps with their states, whole log lines (stdout and stderr) redacted, one result per target.
        expect(of('leak-env', 'vertex').some((e) => e.status === 'completed' && String(e.name).includes('cat /run/secrets/s'))).toBe(true);
        expect(of('leak-env', 'log').some((e) => e.text === 'again: <redacted> end' && e.stream === 'stdout')).toBe(true);
        expect(of('leak-env', 'log').some((e) => e.text === '<redacted>' && e.stream === 'stderr')).toBe(true);
        expect(of('leak-file', 'log').filter((e) => e.text === '<redacted>').length).toBeGreaterThanOrEqual(2);
        expect(of('leak-fail', 'vertex').some((e) => e.status === 'error')).toBe(true);
        expect(of('leak-env', 'result').map((e) => e.status)).toEqual(['success']);
        expect(of('leak-fail', 'result').map((e) => e.status)).toEqual(['failure']);
        expect(events.some((e) => e.target === null && String(e.text).includes('image(s) in one run'))).toBe(true);
        for (const e of events) expect(typeof e.time === 'string' && !Number.isNaN(Date.parse(e.time as string))).toBe(true);
      }
      if (mode === 'quiet') {
        // Nothing of ours on the live stream (Nx still prints each task's log under its header).
        expect(r.out).not.toMatch(/nx-buildkit: \d+ image\(s\) in one run/);
        expect(stdout.some((l) => l.startsWith('{"time"'))).toBe(false);
      }
    }, timeout);
  }

  test.skipIf(!hasTmux)(`--progress=tty in a real terminal (tmux): a live view drawn in place, secrets redacted in it and in the task logs${hasTmux ? '' : ' (skipped: tmux is not installed)'}`, async () => {
    // Nx pipes a batch worker's stdout, so the live view shows where the executor
    // has a terminal of its own: one task, --batch=false (Nx gives it a pseudo-terminal).
    const id = `nxbk-progress-${randomBytes(4).toString('hex')}`;
    const raw = path.join(os.tmpdir(), `${id}.raw`);
    const exitFile = (n: number) => path.join(os.tmpdir(), `${id}.exit${n}`);
    // A tmux server of our own (-L), started with Nx's environment.
    const tmux = (...args: string[]) => spawnSync('tmux', ['-L', id, ...args], { env: nxEnv, encoding: 'utf8' });
    const nxCli = path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js');
    fs.rmSync(path.join(ws.dir, 'dist/out'), { recursive: true, force: true });
    try {
      expect(tmux('new-session', '-d', '-s', 'main', '-x', '150', '-y', '40', '-c', ws.dir, 'bash --norc --noprofile').status).toBe(0);
      tmux('pipe-pane', '-o', '-t', 'main', `cat >> ${raw}`);
      const run = async (n: number, project: string, onScreen: (screen: string) => void) => {
        tmux('send-keys', '-t', 'main', `node ${nxCli} run ${project}:image --batch=false --progress=tty; echo $? > ${exitFile(n)}`, 'Enter');
        const deadline = Date.now() + 150_000;
        while (!fs.existsSync(exitFile(n)) && Date.now() < deadline) {
          onScreen(tmux('capture-pane', '-p', '-t', 'main').stdout);
          await new Promise((resolve) => setTimeout(resolve, 200));
        }
        return Number(fs.readFileSync(exitFile(n), 'utf8').trim());
      };
      const live: string[] = [];
      expect(await run(1, 'live', (screen) => live.push(...screen.split('\n').filter((l) => /^\[live\] \[\d+\/\d+\] /.test(l))))).toBe(0);
      expect(await run(2, 'leak-fail', () => {})).not.toBe(0);
      const screen = tmux('capture-pane', '-p', '-J', '-S', '-', '-t', 'main').stdout;
      const bytes = fs.readFileSync(raw, 'utf8');

      // While it ran: one line for the target with its step count and current step.
      expect(live.some((l) => l.includes('RUN for i in')), live.join('\n')).toBe(true);
      // Drawn in place: the footer is on screen once per run, in its final state, though it was redrawn many times.
      expect(screen.match(/^nx-buildkit: \d+ running, .*$/gm), screen).toEqual([
        expect.stringMatching(/^nx-buildkit: 0 running, 0 waiting, 1 done \(/),
        expect.stringMatching(/^nx-buildkit: 0 running, 0 waiting, 0 done, 1 failed \(/),
      ]);
      expect(bytes.match(/nx-buildkit: \d+ running/g)!.length).toBeGreaterThan(2);
      expect(bytes).toMatch(/\x1b\[\d*A/);
      // Each target's summary line stays; the steps' own output is not in the view.
      expect(screen).toMatch(/^\[live\] done [\d.]+s: built nxbk-e2e-progress\/live:latest/m);
      expect(screen).toMatch(/^\[leak-fail\] FAILED [\d.]+s: /m);
      expect(screen).not.toContain('tick 3');
      expect(fs.readFileSync(path.join(ws.dir, 'dist/out/live/proof'), 'utf8').trim()).toBe(sha256(envSecret));
      expectNoLeak(screen + bytes);
    } finally {
      tmux('kill-server');
      for (const f of [raw, exitFile(1), exitFile(2)]) fs.rmSync(f, { force: true });
    }
  }, timeout);

  test.skipIf(!hasOci)(`bakeMetadataFile: one file in buildx bake shape, keyed by project, matching the per-target metadata${hasOci ? '' : ' (skipped: needs the oci exporter, i.e. buildkitd or an engine with the containerd image store)'}`, () => {
    // The tar's directory must exist: FileSend does not create it (and a missing one crashes the worker today).
    fs.mkdirSync(path.join(ws.dir, 'dist/oci'), { recursive: true });
    const r = nx('run-many', '-t', 'image', '-p', 'img', 'leak-env', '--skip-nx-cache');
    expect(r.status, r.out).toBe(0);
    const bake = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/bake.json'), 'utf8')) as Record<string, Record<string, unknown>>;
    expect(Object.keys(bake).sort()).toEqual(['img', 'leak-env']);
    const md = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/images/img/metadata.json'), 'utf8')) as { digest: string; configDigest: string };
    const img = bake.img!;
    expect(md.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(img['containerimage.digest']).toBe(md.digest);
    expect(img['containerimage.config.digest']).toBe(md.configDigest);
    // The descriptor is decoded from the exporter's base64 JSON, as buildx writes it.
    expect(img['containerimage.descriptor']).toMatchObject({ digest: md.digest, mediaType: expect.stringContaining('manifest') });
    expect(String(img['image.name'])).toContain('nxbk-e2e-progress/img:latest');
    expect(img['buildx.build.ref']).toMatch(/^nx-buildkit\/nx-buildkit0\/[0-9a-z]{25}$/);
    // The OCI tarball holds the digest the file names.
    expect(fs.existsSync(path.join(ws.dir, 'dist/oci/img.tar'))).toBe(true);
    expectNoLeak(r.out);
  }, timeout);

  test('tasks of one run that disagree on bakeMetadataFile fail before anything starts, naming project, target and field', () => {
    const file = path.join(ws.dir, 'leak-file/project.json');
    const original = fs.readFileSync(file, 'utf8');
    const config = JSON.parse(original) as { targets: { image: { options: Record<string, unknown> } } };
    config.targets.image.options.bakeMetadataFile = 'dist/other.json';
    fs.writeFileSync(file, JSON.stringify(config));
    fs.rmSync(path.join(ws.dir, 'dist/bake.json'), { force: true });
    let r: ReturnType<typeof nx>;
    try {
      r = nx('run-many', '-t', 'image', '-p', 'leak-env', 'leak-file', '--skip-nx-cache');
    } finally {
      fs.writeFileSync(file, original);
    }
    expect(r.status).not.toBe(0);
    expect(r.out).toMatch(/leak-(env|file):image: option "bakeMetadataFile": must be the same for every task of a run \((unset|"dist\/(bake|other)\.json") here, "dist\/(bake|other)\.json" for leak-(env|file):image\)/);
    expect(r.out).toContain('invalid options, nothing was built');
    expect(fs.existsSync(path.join(ws.dir, 'dist/bake.json'))).toBe(false);
    expect(fs.existsSync(path.join(ws.dir, 'dist/other.json'))).toBe(false);
  }, timeout);
});
