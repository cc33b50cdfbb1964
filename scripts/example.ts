/**
 * The main job: build every image of the example Nx workspace
 * (examples/workspace) with `nx run-many -t image`, against the builder
 * found (BUILDKIT_HOST, DOCKER_HOST, the default sockets) or, when none
 * answers, a Docker engine started locally by e2e/daemons/up.sh.
 */
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitClient, BuildkitError, findLoadEngine } from '../plugin/buildkit/index';
import { daemonsHome } from '../e2e/support/daemons';

const root = path.join(import.meta.dir, '..');
const workspace = path.join(root, 'examples', 'workspace');

function run(cmd: string, args: string[], options: SpawnSyncOptions = {}): void {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...options });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (exit ${r.status})`);
}

/** The builder to use: the one that answers, else a local engine started for this. */
async function findBuilder(): Promise<{ address: string; isDockerEngine: boolean }> {
  try {
    await using client = await BuildkitClient.connect({});
    console.log(`builder: ${client.address.display} (${client.builder.source})`);
    return { address: client.address.display, isDockerEngine: client.address.kind === 'docker' };
  } catch (err) {
    if (!(err instanceof BuildkitError)) throw err;
    console.log(`${err.message}\nstarting a local Docker engine (e2e/daemons/up.sh docker-28)…`);
    run('bash', [path.join(root, 'e2e', 'daemons', 'up.sh'), 'docker-28']);
    return { address: `docker://${path.join(daemonsHome(), 'docker-28.sock')}`, isDockerEngine: true };
  }
}

// The base image is a busybox root filesystem from Debian's busybox-static (no registry needed).
run('bash', [path.join(root, 'e2e', 'daemons', 'install.sh')]);
fs.copyFileSync(path.join(daemonsHome(), 'base-rootfs.tar'), path.join(workspace, 'base', 'rootfs.tar'));
run('bun', [path.join(root, 'scripts', 'build-dist.ts'), '--no-types']);

// The workspace resolves nx and nx-buildkit from this checkout.
const modules = path.join(workspace, 'node_modules');
fs.rmSync(modules, { recursive: true, force: true });
fs.mkdirSync(modules);
for (const entry of fs.readdirSync(path.join(root, 'node_modules'))) fs.symlinkSync(path.join(root, 'node_modules', entry), path.join(modules, entry));
fs.symlinkSync(root, path.join(modules, 'nx-buildkit'));

const builder = await findBuilder();
const env: NodeJS.ProcessEnv = { ...process.env, BUILDKIT_HOST: builder.address, NX_DAEMON: 'false', NX_NO_CLOUD: 'true' };
// The example's images are loaded into a Docker engine: the one that builds
// them, or, on a standalone buildkitd (no image store), the engine at
// DOCKER_HOST or the default socket, into which the `docker` exporter's
// tarball is streamed (as buildx's docker-container driver does). With no
// engine there, every image is still built (the images FROM base read base's
// result of this run through the run's own OCI layout), but nothing is loaded.
const noEngine = builder.isDockerEngine ? undefined : await findLoadEngine(process.env).then(() => undefined, (err: unknown) => BuildkitError.from(err).message);
const overrides = noEngine ? ['--no-load'] : [];
if (noEngine) console.log(`${builder.address} is not a Docker engine: building every image with --no-load (load: false), since ${noEngine}`);
// The worker image needs a secret and git-sync an SSH agent: provide throwaway ones when the caller has none.
env.EXAMPLE_NPM_TOKEN ??= 'example-token-not-a-real-secret';
if (!env.SSH_AUTH_SOCK) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-example-ssh-'));
  const socket = path.join(dir, 'agent.sock');
  run('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nx-buildkit example', '-f', path.join(dir, 'key')]);
  run('ssh-agent', ['-a', socket], { stdio: 'ignore' });
  run('ssh-add', ['-q', path.join(dir, 'key')], { env: { ...process.env, SSH_AUTH_SOCK: socket } });
  env.SSH_AUTH_SOCK = socket;
}
run('node', [path.join(modules, 'nx', 'dist', 'bin', 'nx.js'), 'run-many', '-t', 'image', '--outputStyle=static', ...overrides], { cwd: workspace, env });

console.log('\nimages built (metadata files):');
const dist = path.join(workspace, 'dist', 'images');
for (const file of fs.readdirSync(dist, { recursive: true }) as string[]) {
  if (!file.endsWith('metadata.json')) continue;
  const m = JSON.parse(fs.readFileSync(path.join(dist, file), 'utf8')) as { imageNames: string[]; configDigest?: string; digest?: string };
  console.log(`  ${m.imageNames.join(', ')}  ${m.configDigest ?? m.digest ?? ''}`);
}
