/**
 * A private Docker engine for fault tests: tests that kill or restart a
 * daemon must never touch the shared engines other tests use. It runs the
 * same unpacked dockerd as e2e/daemons/up.sh, with its own data root, exec
 * root, socket and containerd namespace in a short temporary directory, and
 * is stopped by PID.
 *
 * dockerd runs as PID 1 of its own PID and mount namespaces (`unshare`):
 * when it dies, however it dies, the kernel kills everything it started
 * (its managed containerd, runc, the RUN steps' processes) and its mounts
 * vanish with the namespace, so a SIGKILL leaves no orphan process and no
 * leftover mount behind. Runtime-neutral (node:*), root only.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { daemonsHome } from './daemons';
import { isAlive, NamespacedDaemon } from './namespaced-daemon';

export { isAlive };

/** Which unpacked engine to run (the same prefixes as e2e/daemons/lib.sh). */
export type PrivateEngineKind = 'docker-28' | 'docker-26';

/** Unix socket paths must stay below ~108 bytes; containerd's lives deepest, under the exec root. */
const maxSocketPath = 100;
const dockerCli = '/usr/bin/docker';

/** A running (or killed, restartable) private Docker engine. */
export class PrivateEngine implements AsyncDisposable {

  private constructor(
    /** The temporary directory holding all of its state. */
    readonly dir: string,
    private readonly kind: PrivateEngineKind,
  ) {
    this.process = new NamespacedDaemon('dockerd', dir);
  }

  private readonly process: NamespacedDaemon;

  /** Why a private engine cannot run here, or undefined when it can. */
  static unavailableReason(kind: PrivateEngineKind = 'docker-28'): string | undefined {
    if (process.getuid?.() !== 0) return 'needs root (dockerd)';
    if (!fs.existsSync(dockerdPath(kind))) return `${dockerdPath(kind)} is missing (run e2e/daemons/install.sh)`;
    if (!fs.existsSync(baseImageTar())) return `${baseImageTar()} is missing (run e2e/daemons/up.sh)`;
    if (spawnSync('unshare', ['--version']).status !== 0) return 'unshare (util-linux) is missing';
    return undefined;
  }

  /** Start a fresh engine and load the base image (nxbk-base:latest) into it. */
  static async start(kind: PrivateEngineKind = 'docker-28'): Promise<PrivateEngine> {
    const reason = PrivateEngine.unavailableReason(kind);
    if (reason) throw new Error(`cannot start a private engine: ${reason}`);
    // /tmp, not os.tmpdir(): TMPDIR may be long, and containerd's socket must fit.
    const dir = fs.mkdtempSync(path.join(fs.existsSync('/tmp') ? '/tmp' : '/var/tmp', 'nxpe-'));
    const engine = new PrivateEngine(dir, kind);
    try {
      if (path.join(dir, 'e', 'containerd', 'containerd.sock.ttrpc').length >= maxSocketPath) throw new Error(`${dir} is too long for containerd's socket`);
      await engine.restart();
      const load = spawnSync(dockerCli, ['-H', `unix://${engine.socketPath}`, 'load', '-q', '-i', baseImageTar()], { encoding: 'utf8', timeout: 60_000 });
      if (load.status !== 0) throw new Error(`docker load into the private engine failed: ${load.stderr || load.error}`);
      return engine;
    } catch (err) {
      await engine.stop();
      throw err;
    }
  }

  /** The engine API socket. */
  get socketPath(): string {
    return path.join(this.dir, 's');
  }

  /** Builder address for BuildkitClient.connect. */
  get address(): string {
    return `docker://${this.socketPath}`;
  }

  /** Host PID of dockerd (0 when it is not running). */
  get dockerdPid(): number {
    return this.process.pid;
  }

  /** Host PID of the daemon (dockerd), as for other private daemons. */
  get pid(): number {
    return this.process.pid;
  }

  /** True while dockerd runs. */
  get running(): boolean {
    return this.process.running;
  }

  /**
   * (Re)start dockerd on the same state (images survive) and wait until it
   * answers. Stale PID files of a killed run are removed first: dockerd
   * refuses to start while its PID file names a live process.
   */
  async restart(timeoutMs = 30_000): Promise<void> {
    if (this.running) throw new Error('the private engine is already running');
    for (const f of ['dockerd.pid', 'e/containerd/containerd.pid', 's']) fs.rmSync(path.join(this.dir, f), { force: true });
    fs.mkdirSync(path.join(this.dir, 'd'), { recursive: true });
    fs.mkdirSync(path.join(this.dir, 'e'), { recursive: true });
    const prefix = enginePrefix(this.kind);
    const name = `nxbk-pe-${path.basename(this.dir).slice(5)}`;
    await this.process.start({
      argv: [
        dockerdPath(this.kind),
        '--data-root', path.join(this.dir, 'd'), '--exec-root', path.join(this.dir, 'e'), '--pidfile', path.join(this.dir, 'dockerd.pid'),
        '-H', `unix://${this.socketPath}`,
        '--storage-driver=overlay2', '--bridge=none', '--iptables=false', '--ip-masq=false', '--ip-forward=false',
        '--containerd-namespace', name, '--containerd-plugins-namespace', `${name}-plugins`,
      ],
      env: { PATH: `${prefix}/usr/sbin:${prefix}/usr/bin:/usr/sbin:/usr/bin:/sbin:/bin`, HOME: process.env.HOME ?? '/root' },
      ready: () => ping(this.socketPath),
      readyVerb: 'answer',
      timeoutMs,
    });
  }

  /** Send `signal` to dockerd (by PID) and wait until it and everything it started are gone. */
  kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    return this.process.kill(signal, timeoutMs);
  }

  /** Freeze dockerd (SIGSTOP): it keeps its connections and answers nothing. */
  pause(): void {
    this.process.pause();
  }

  /** Stop gracefully (SIGTERM, then SIGKILL), unmount leftovers and remove the state. */
  async stop(): Promise<void> {
    await this.kill('SIGTERM');
    unmountUnder(this.dir);
    fs.rmSync(this.dir, { recursive: true, force: true });
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  /** The last lines of dockerd's log, for failure messages. */
  logTail(lines = 20): string {
    return this.process.logTail(lines);
  }
}

function enginePrefix(kind: PrivateEngineKind): string {
  return path.join(daemonsHome(), 'pkgs', kind);
}

function dockerdPath(kind: PrivateEngineKind): string {
  return path.join(enginePrefix(kind), 'usr', 'sbin', 'dockerd');
}

function baseImageTar(): string {
  return path.join(daemonsHome(), 'base-image.tar');
}

/** GET /_ping over the engine socket answers OK. */
function ping(socketPath: string): Promise<boolean> {
  if (!fs.existsSync(socketPath)) return Promise.resolve(false);
  return new Promise((resolve) => {
    const req = http.get({ socketPath, path: '/_ping', timeout: 2_000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 && body === 'OK'));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
  });
}

/**
 * Mounts dockerd left at or below `dir`, deepest first. Its mount namespace
 * normally takes them with it; this is for the case where that did not happen.
 */
function unmountUnder(dir: string): void {
  let info: string;
  try {
    info = fs.readFileSync('/proc/self/mountinfo', 'utf8');
  } catch {
    return;
  }
  const mounts = info.split('\n').map((l) => l.split(' ')[4]?.replace(/\\040/g, ' ')).filter((m): m is string => !!m && (m === dir || m.startsWith(`${dir}/`)));
  for (const m of mounts.sort((a, b) => b.length - a.length)) {
    if (spawnSync('umount', [m]).status !== 0) spawnSync('umount', ['-l', m]);
  }
}
