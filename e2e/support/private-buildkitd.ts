/**
 * A private standalone buildkitd for fault tests (kill it, stop it, restart
 * it) that never touches the shared one. It runs the binary e2e/daemons/up.sh
 * runs (`NXBK_BUILDKITD`, else the newest `../shared/tools/buildkitd/<version>/buildkitd`
 * next to the checkout) with a config, socket and state root of its own in a
 * short temporary directory: rootful OCI worker, the local registries as
 * plain HTTP, and the plain registry as its docker.io mirror, so `FROM
 * nxbk-base` resolves as on the shared one. Stopped by PID.
 *
 * buildkitd runs as PID 1 of its own PID and mount namespaces (`unshare`),
 * as the private Docker engine does: when it dies, however it dies, the
 * kernel ends its RUN steps and its mounts vanish with it.
 * Runtime-neutral (node:*), root only.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { NamespacedDaemon } from './namespaced-daemon';
import { e2eEnvironment } from './daemons';

/** The buildkitd binary e2e/daemons/lib.sh would use, or undefined. */
export function buildkitdBinary(): string | undefined {
  const given = process.env.NXBK_BUILDKITD;
  if (given) return fs.existsSync(given) ? given : undefined;
  // Next to the checkout the tests run from (the Node stage runs a bundle, so not relative to this file).
  let tools = '';
  for (let dir = process.cwd(); !tools; dir = path.dirname(dir)) {
    const candidate = path.join(dir, '..', 'shared', 'tools', 'buildkitd');
    if (fs.existsSync(candidate)) tools = candidate;
    else if (path.dirname(dir) === dir) return undefined;
  }
  let versions: string[];
  try {
    versions = fs.readdirSync(tools);
  } catch {
    return undefined;
  }
  const found = versions
    .map((v) => path.join(tools, v, 'buildkitd'))
    .filter((b) => fs.existsSync(b))
    .sort((a, b) => a.localeCompare(b, undefined, { numeric: true }));
  return found.at(-1);
}

/** A running (or killed, stopped, restartable) private buildkitd. */
export class PrivateBuildkitd implements AsyncDisposable {
  private readonly process: NamespacedDaemon;

  private constructor(
    /** The temporary directory holding all of its state. */
    readonly dir: string,
    private readonly binary: string,
  ) {
    this.process = new NamespacedDaemon('buildkitd', dir);
  }

  /** Why a private buildkitd cannot run here, or undefined when it can. */
  static unavailableReason(): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root (rootful OCI worker)';
    if (!buildkitdBinary()) return 'no buildkitd binary (set NXBK_BUILDKITD, or put one at ../shared/tools/buildkitd/<version>/buildkitd next to the repo)';
    if (spawnSync('runc', ['--version']).status !== 0) return 'runc is not on PATH';
    if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) is missing';
    if (!e2eEnvironment().registry) return 'the test registry (its base images) is not running (e2e/daemons/up.sh registry)';
    return undefined;
  }

  /** Start a fresh daemon and wait until it answers. */
  static async start(): Promise<PrivateBuildkitd> {
    const reason = PrivateBuildkitd.unavailableReason();
    if (reason) throw new Error(`cannot start a private buildkitd: ${reason}`);
    const env = e2eEnvironment();
    // /tmp, not os.tmpdir(): the socket path must stay short.
    const dir = fs.mkdtempSync(path.join(fs.existsSync('/tmp') ? '/tmp' : '/var/tmp', 'nxbkd-'));
    const daemon = new PrivateBuildkitd(dir, buildkitdBinary()!);
    const registries = [env.registry!, ...(env.registryAuth ? [env.registryAuth.address] : [])];
    fs.writeFileSync(path.join(dir, 'buildkitd.toml'), [
      `root = "${path.join(dir, 'state')}"`,
      '[grpc]',
      `  address = ["unix://${daemon.socketPath}"]`,
      '[worker.oci]',
      '  enabled = true',
      '[worker.containerd]',
      '  enabled = false',
      ...registries.flatMap((r) => [`[registry."${r}"]`, '  http = true']),
      '[registry."docker.io"]',
      `  mirrors = ["${env.registry}"]`,
      '',
    ].join('\n'));
    try {
      await daemon.restart();
      return daemon;
    } catch (err) {
      await daemon.stop();
      throw err;
    }
  }

  /** The daemon's socket. */
  get socketPath(): string {
    return path.join(this.dir, 's');
  }

  /** Builder address for BuildkitClient.connect. */
  get address(): string {
    return `unix://${this.socketPath}`;
  }

  /** Host PID of buildkitd (0 when it is not running). */
  get pid(): number {
    return this.process.pid;
  }

  /** True while buildkitd runs. */
  get running(): boolean {
    return this.process.running;
  }

  /** (Re)start buildkitd on the same state and wait until its socket accepts connections. */
  async restart(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error('the private buildkitd is already running');
    fs.rmSync(this.socketPath, { force: true });
    await this.process.start({
      argv: [this.binary, '--config', path.join(this.dir, 'buildkitd.toml')],
      env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', HOME: process.env.HOME ?? '/root' },
      ready: () => accepts(this.socketPath),
      readyVerb: 'listen',
      timeoutMs,
    });
  }

  /** Send `signal` to buildkitd (by PID) and wait until it and everything it started are gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    return this.process.kill(signal, timeoutMs);
  }

  /** Freeze buildkitd (SIGSTOP): it keeps its connections and answers nothing. */
  pause(): void {
    this.process.pause();
  }

  /** Stop gracefully (SIGTERM, then SIGKILL) and remove the state. */
  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** The last lines of buildkitd's log, for failure messages. */
  logTail(lines = 20): string {
    return this.process.logTail(lines);
  }
}

/** The socket exists and accepts a connection. */
function accepts(socketPath: string): Promise<boolean> {
  if (!fs.existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const s = net.connect(socketPath);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}
