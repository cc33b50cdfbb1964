/**
 * The process side of a private daemon for fault tests (the private Docker
 * engine, the private buildkitd): the daemon runs as PID 1 of its own PID and
 * mount namespaces (`unshare`), so when it dies, however it dies, the kernel
 * ends everything it started and its mounts vanish with it. Started, killed,
 * paused and stopped by PID; its log lives in `<dir>/log`.
 * Runtime-neutral (node:*), root only.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/** How to start one daemon and tell that it is ready. */
export interface DaemonLaunch {
  /** The daemon's command line (run under `unshare`). */
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Whether the daemon answers yet. */
  ready: () => Promise<boolean>;
  /** What `ready` checks, for the timeout message: "answer", "listen". */
  readyVerb: string;
  timeoutMs: number;
}

/** One daemon process under `unshare`, restartable on the same state directory. */
export class NamespacedDaemon {
  private unshare: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private daemonPid = 0;
  private readonly onExit = () => this.killNow();

  constructor(
    /** The daemon's name in messages: "dockerd", "buildkitd". */
    private readonly name: string,
    /** The directory holding its state and log. */
    private readonly dir: string,
  ) {}

  /** Host PID of the daemon (0 when it is not running). */
  get pid(): number {
    return this.daemonPid;
  }

  /** True while the daemon runs. */
  get running(): boolean {
    return this.daemonPid !== 0 && isAlive(this.daemonPid);
  }

  /** Start the daemon and wait until it is ready; killed again when it is not within the time. */
  async start(launch: DaemonLaunch): Promise<void> {
    const log = fs.openSync(path.join(this.dir, 'log'), 'a');
    const child = spawn('unshare', ['--pid', '--fork', '--mount-proc', '--kill-child', ...launch.argv], { stdio: ['ignore', log, log], env: launch.env });
    fs.closeSync(log);
    this.unshare = child;
    // Node reaps its own child (unshare); unshare reaps the daemon; the daemon, as
    // its namespace's init, takes every other process it started with it.
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    process.once('exit', this.onExit);
    const deadline = Date.now() + launch.timeoutMs;
    try {
      while (!(await launch.ready())) {
        if (child.exitCode !== null || child.signalCode !== null) throw new Error(`the private ${this.name} exited during start-up:\n${this.logTail()}`);
        if (Date.now() > deadline) throw new Error(`the private ${this.name} did not ${launch.readyVerb} within ${launch.timeoutMs} ms:\n${this.logTail()}`);
        await new Promise((r) => setTimeout(r, 100));
      }
      this.daemonPid = childPid(child.pid!);
    } catch (err) {
      await this.kill('SIGKILL');
      throw err;
    }
  }

  /** Send `signal` to the daemon (by PID) and wait until it and everything it started are gone. */
  async kill(signal: NodeJS.Signals = 'SIGKILL', timeoutMs = 15_000): Promise<void> {
    const child = this.unshare;
    if (!child) return;
    const pid = this.daemonPid || childPid(child.pid!);
    try {
      // A stopped process keeps a SIGTERM pending until it runs again.
      if (pid) {
        process.kill(pid, signal);
        if (signal !== 'SIGKILL') process.kill(pid, 'SIGCONT');
      } else child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
    const ended = await Promise.race([this.exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), timeoutMs))]);
    if (!ended) {
      this.killNow();
      await this.exited;
    }
    this.daemonPid = 0;
    this.unshare = undefined;
    process.off('exit', this.onExit);
  }

  /** Freeze the daemon (SIGSTOP): it keeps its connections and answers nothing. */
  pause(): void {
    if (this.daemonPid) process.kill(this.daemonPid, 'SIGSTOP');
  }

  /** The last lines of the daemon's log, for failure messages. */
  logTail(lines = 20): string {
    try {
      return fs.readFileSync(path.join(this.dir, 'log'), 'utf8').trim().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  /** Synchronous last resort (process exit): SIGKILL the daemon, so its namespace dies with it. */
  private killNow(): void {
    for (const pid of [this.daemonPid, this.unshare?.pid ?? 0]) {
      try {
        if (pid) process.kill(pid, 'SIGKILL');
      } catch {
        // Gone.
      }
    }
  }
}

/** The PID of unshare's forked child (the daemon), 0 if there is none (yet). */
function childPid(parent: number): number {
  try {
    return Number(fs.readFileSync(`/proc/${parent}/task/${parent}/children`, 'utf8').trim().split(/\s+/)[0]) || 0;
  } catch {
    return 0;
  }
}

/** Alive and not a zombie: a killed process stays visible in /proc until reaped. */
export function isAlive(pid: number): boolean {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}
