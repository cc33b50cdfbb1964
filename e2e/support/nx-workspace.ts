import { spawn, spawnSync, type ChildProcess, type SpawnOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeTree, type TreeSpec } from './files';

/** This checkout: the nx-buildkit package the fixture workspaces install. */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const nxCli = path.join(repoRoot, 'node_modules/nx/dist/bin/nx.js');

/** Which runtime runs the Nx CLI (and so every plugin worker and executor it forks). */
export type NxRuntime = 'node' | 'bun';

/** The outcome of one Nx CLI run. */
export interface NxRun {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** A temporary Nx workspace that uses this checkout as its `nx-buildkit` package. */
export interface NxWorkspace {
  dir: string;
  /** Run the real Nx CLI in the workspace; the daemon is off, so each run reads the files afresh. */
  nx(runtime: NxRuntime, args: readonly string[]): NxRun;
  /** Like {@link nx}, but throws with the output when Nx fails; returns stdout parsed as JSON. */
  nxJson<T>(runtime: NxRuntime, args: readonly string[]): T;
  /** Start the Nx CLI without waiting (output piped), e.g. to signal it mid-run; `options` are passed to spawn. */
  spawnNx(runtime: NxRuntime, args: readonly string[], options?: SpawnOptions): ChildProcess;
  git(...args: string[]): string;
  write(spec: TreeSpec): void;
  [Symbol.dispose](): void;
}

/**
 * Build the package's `dist/` (what Nx loads under Node) once per process, as
 * `bun scripts/build-dist.ts --no-types` does (Nx needs the JavaScript only).
 */
let built = false;
export function buildDist(): void {
  if (built) return;
  const bun = process.versions.bun ? process.execPath : 'bun';
  const r = spawnSync(bun, ['scripts/build-dist.ts', '--no-types'], { cwd: repoRoot, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`build-dist failed:\n${r.stdout}${r.stderr}`);
  built = true;
}

/**
 * The environment Nx runs with in tests and benchmarks: this process's,
 * less any `NX_*` setting, with the Nx daemon and Nx Cloud off. Callers read
 * Nx's task output: keep it free of colour codes and the same in CI as on a
 * workstation.
 */
export function nxEnvironment(): Record<string, string> {
  return {
    ...(Object.fromEntries(Object.entries(process.env).filter(([k, v]) => !k.startsWith('NX_') && v !== undefined)) as Record<string, string>),
    NX_DAEMON: 'false',
    NX_NO_CLOUD: 'true',
    CI: 'false',
    FORCE_COLOR: '0',
    NO_COLOR: '1',
    NX_TUI: 'false',
  };
}

/**
 * Create a git-initialised Nx workspace holding `spec`, with `nx.json`
 * registering the plugin with `pluginOptions`. Its node_modules links every
 * package of this checkout's node_modules (nx, @nx/devkit, zod…) plus
 * `nx-buildkit` → this checkout, the hoisted layout Nx resolves plugins from.
 */
export function createNxWorkspace(spec: TreeSpec, pluginOptions: Record<string, unknown> = {}): NxWorkspace {
  buildDist();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-nx-'));
  const modules = path.join(dir, 'node_modules');
  fs.mkdirSync(modules);
  for (const entry of fs.readdirSync(path.join(repoRoot, 'node_modules'))) {
    fs.symlinkSync(path.join(repoRoot, 'node_modules', entry), path.join(modules, entry));
  }
  fs.symlinkSync(repoRoot, path.join(modules, 'nx-buildkit'));
  writeTree(dir, {
    'nx.json': JSON.stringify({ analytics: false, plugins: [{ plugin: 'nx-buildkit', options: pluginOptions }] }, null, 2),
    'package.json': JSON.stringify({ name: 'fixture', private: true }),
    '.gitignore': 'node_modules\ndist\n.nx\n',
    ...spec,
  });
  const env: NodeJS.ProcessEnv = {
    ...nxEnvironment(),
    GIT_AUTHOR_NAME: 'e2e',
    GIT_AUTHOR_EMAIL: 'e2e@example.invalid',
    GIT_COMMITTER_NAME: 'e2e',
    GIT_COMMITTER_EMAIL: 'e2e@example.invalid',
  };
  const git = (...args: string[]) => {
    const r = spawnSync('git', args, { cwd: dir, env, encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`git ${args.join(' ')} failed: ${r.stderr}`);
    return r.stdout;
  };
  git('init', '-q', '-b', 'main');
  const command = (runtime: NxRuntime): [string, string[]] => (runtime === 'bun' ? [process.versions.bun ? process.execPath : 'bun', ['--bun', nxCli]] : ['node', [nxCli]]);
  const nx = (runtime: NxRuntime, args: readonly string[]): NxRun => {
    const [cmd, pre] = command(runtime);
    const r = spawnSync(cmd, [...pre, ...args], { cwd: dir, env, encoding: 'utf8', timeout: 120_000 });
    // Colour codes can still slip through (chalk honours other variables); strip them.
    const plain = (text: string) => text.replace(/\x1b\[[0-9;]*m/g, '');
    return { status: r.status, stdout: plain(r.stdout ?? ''), stderr: plain(r.stderr ?? '') };
  };
  return {
    dir,
    nx,
    nxJson<T>(runtime: NxRuntime, args: readonly string[]): T {
      const r = nx(runtime, args);
      if (r.status !== 0) throw new Error(`nx ${args.join(' ')} (${runtime}) exited ${r.status}:\n${r.stdout}\n${r.stderr}`);
      return JSON.parse(r.stdout) as T;
    },
    spawnNx(runtime, args, options = {}) {
      const [cmd, pre] = command(runtime);
      return spawn(cmd, [...pre, ...args], { cwd: dir, env, stdio: ['ignore', 'pipe', 'pipe'], ...options });
    },
    git,
    write: (s) => writeTree(dir, s),
    [Symbol.dispose]: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Which image tasks Nx ran and which it replayed from its cache, read from
 * its task headers (`> nx run app:image [local cache]`), sorted by project.
 */
export function ranAndCached(out: string): { ran: string[]; cached: string[] } {
  const ran = new Set<string>();
  const cached = new Set<string>();
  for (const m of out.matchAll(/^> nx run ([\w-]+):image\b(.*)$/gm)) {
    if (/\[(local cache|remote cache|existing outputs match the cache, left as is)\]/.test(m[2]!)) cached.add(m[1]!);
    else ran.add(m[1]!);
  }
  return { ran: [...ran].sort(), cached: [...cached].sort() };
}
