import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';

/** How long ssh-agent and ssh-add may take before we give up. */
const stepTimeoutMs = 10_000;

/** An ssh-agent of our own, holding key files for one SSH ID. */
export interface PrivateAgent {
  /** The agent's socket, inside a private 0700 directory. */
  readonly socket: string;
  /** Stop the agent and remove its directory. Idempotent. */
  close(): Promise<void>;
}

/**
 * Start a private OpenSSH `ssh-agent` and `ssh-add` the key files into it.
 *
 * Why OpenSSH and not an agent written in JS: parsing every private key
 * format (OpenSSH, PEM, PKCS#8; RSA, ECDSA, Ed25519, sk keys) and signing
 * exactly as an agent must is security-critical code with no npm
 * implementation worth trusting; OpenSSH does it exactly, with the same
 * checks (file permissions, passphrases) users get from `ssh-add`.
 *
 * The agent runs in command mode (`ssh-agent -a <sock> sh -c …`): its
 * command is a shell that waits on a pipe from this process, and OpenSSH
 * exits an agent whose command has gone (it checks every 10 s). So even if
 * this process dies without close(), the agent and its keys go away.
 */
export async function startPrivateAgent(id: string, keyFiles: readonly string[], signal?: AbortSignal): Promise<PrivateAgent> {
  const dir = await fs.promises.mkdtemp(path.join(os.tmpdir(), 'nxbk-ssh-'));
  await fs.promises.chmod(dir, 0o700);
  const socket = path.join(dir, 'agent.sock');
  let keeper: ChildProcess | undefined;
  let agentPid: number | undefined;
  const close = async () => {
    if (agentPid !== undefined) {
      try {
        process.kill(agentPid, 'SIGTERM');
      } catch {
        // Already gone.
      }
      agentPid = undefined;
    }
    keeper?.stdin?.end();
    keeper = undefined;
    await fs.promises.rm(dir, { recursive: true, force: true });
  };
  try {
    // The command prints the agent's PID, then waits for our end of the pipe to close and removes the
    // directory (so a crash leaves neither a running agent nor a stale directory behind).
    keeper = spawn('ssh-agent', ['-a', socket, 'sh', '-c', 'echo "$SSH_AGENT_PID"; cat >/dev/null; rm -rf -- "$0"', dir], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    });
    agentPid = await readAgentPid(keeper, id, signal);
    // A forgotten provider must not keep the process alive; the pipe still ties the agent's life to ours.
    keeper.unref();
    for (const stream of [keeper.stdin, keeper.stdout, keeper.stderr]) (stream as unknown as { unref?: () => void } | null)?.unref?.();
    for (const key of keyFiles) await sshAdd(id, socket, key, signal);
    return { socket, close };
  } catch (err) {
    await close();
    throw err;
  }
}

/** Wait for the first stdout line of the agent's command: the agent's PID (the socket exists by then). */
function readAgentPid(child: ChildProcess, id: string, signal?: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    const finish = (error?: BuildkitError, pid?: number) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      child.stdout?.removeAllListeners('data');
      if (error) reject(error);
      else resolve(pid!);
    };
    const onAbort = () => finish(new BuildkitError('cancelled', `starting the ssh-agent for ssh id ${id} was aborted`));
    const timer = setTimeout(() => finish(new BuildkitError('deadline-exceeded', `ssh-agent for ssh id ${id} did not start within ${stepTimeoutMs} ms`)), stepTimeoutMs);
    signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const line = out.split('\n');
      if (line.length > 1) {
        const pid = Number(line[0]);
        if (Number.isInteger(pid) && pid > 0) finish(undefined, pid);
        else finish(new BuildkitError('internal', `ssh-agent for ssh id ${id} reported no PID`));
      }
    });
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (e: NodeJS.ErrnoException) => {
      const hint = e.code === 'ENOENT' ? ' (is OpenSSH installed? Debian: openssh-client)' : '';
      finish(new BuildkitError('unavailable', `cannot start ssh-agent for ssh id ${id}: ${e.code ?? e.message}${hint}`, { cause: e }));
    });
    child.once('exit', (code) => finish(new BuildkitError('unavailable', `ssh-agent for ssh id ${id} exited (${code}): ${err.trim()}`)));
  });
}

/** `ssh-add <key>` into the private agent; never prompts (no TTY, no askpass). */
function sshAdd(id: string, socket: string, keyFile: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn('ssh-add', ['-q', '--', keyFile], {
      stdio: ['ignore', 'ignore', 'pipe'],
      // detached: a new session without a controlling terminal, so ssh-add cannot read a passphrase from /dev/tty.
      detached: true,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', SSH_AUTH_SOCK: socket, SSH_ASKPASS_REQUIRE: 'never' },
      signal,
      timeout: stepTimeoutMs,
    });
    let err = '';
    child.stderr?.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('error', (e: NodeJS.ErrnoException) => {
      if (e.name === 'AbortError') reject(new BuildkitError('cancelled', `adding key ${keyFile} for ssh id ${id} was aborted`));
      else reject(new BuildkitError('unavailable', `cannot run ssh-add for ssh id ${id}: ${e.code ?? e.message}`, { cause: e }));
    });
    child.once('exit', (code, sig) => {
      if (code === 0) return resolve();
      const why = err.trim().replace(/\s+/g, ' ') || (sig ? `killed by ${sig}` : `exit code ${code}`);
      // ssh-add's messages name the file and the problem (bad permissions, passphrase needed, bad format); never key material.
      reject(new BuildkitError('invalid-argument', `ssh id ${id}: cannot add key file ${keyFile} to the agent: ${why}`));
    });
  });
}
