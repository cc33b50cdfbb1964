import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { redact } from '../../redact';
import type { Environment } from './load-docker-config';

/** Credentials for one registry, as the Auth protocol carries them. */
export interface RegistryCredentials {
  /** Empty when `secret` is an identity token. */
  username: string;
  secret: string;
}

/** How a credential helper runs. */
export interface CredentialHelperOptions {
  /** Environment of the helper; its `PATH` is where `docker-credential-<name>` is looked up. */
  env: Environment;
  /** Give up (and kill the helper) after this many milliseconds. */
  timeoutMs: number;
  signal?: AbortSignal;
}

/** What docker-credential-helpers print when they hold nothing for a server. */
const notFoundMessage = /credentials not found/i;
/** The username helpers store identity tokens under (docker/cli convention). */
const tokenUsername = '<token>';
/** More output than any credential needs; stops a runaway helper filling memory. */
const maxOutputBytes = 1 << 20;

/**
 * Run `docker-credential-<helper> get` with `serverUrl` on stdin, the
 * docker-credential-helpers protocol. Returns undefined when the helper has
 * nothing for the server ("credentials not found"), which means anonymous.
 * A failing, missing or hanging helper is an error naming it. The helper's
 * stderr is never read into messages (helpers may print secrets there); on
 * failure only the first line of its stdout, where the protocol puts the
 * error text, is quoted.
 */
export async function runCredentialHelper(helper: string, serverUrl: string, options: CredentialHelperOptions): Promise<RegistryCredentials | undefined> {
  const program = `docker-credential-${helper}`;
  const executable = findOnPath(program, options.env['PATH'] ?? '');
  if (!executable) {
    throw new BuildkitError('not-found', `credential helper ${program} not found on PATH (needed for ${serverUrl})`);
  }
  const { code, stdout } = await runWithTimeout(executable, program, serverUrl, options);
  const text = stdout.trim();
  if (code !== 0) {
    if (notFoundMessage.test(text)) return undefined;
    const firstLine = text.startsWith('{') ? '' : text.split('\n', 1)[0]!.slice(0, 200);
    throw new BuildkitError('unavailable', `credential helper ${program} failed for ${serverUrl} (exit code ${code})${firstLine ? `: ${redact(firstLine)}` : ''}`);
  }
  return parseHelperOutput(text, program, serverUrl);
}

function parseHelperOutput(text: string, program: string, serverUrl: string): RegistryCredentials | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    // The output is not quoted: it could be a credential in some other shape.
    throw new BuildkitError('protocol', `credential helper ${program} printed something that is not JSON for ${serverUrl}`);
  }
  const fields = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : undefined;
  const username = fields?.['Username'];
  const secret = fields?.['Secret'];
  if (!fields || (username !== undefined && typeof username !== 'string') || (secret !== undefined && typeof secret !== 'string')) {
    throw new BuildkitError('protocol', `credential helper ${program} printed JSON without string "Username"/"Secret" for ${serverUrl}`);
  }
  if (!secret) return undefined;
  return username === tokenUsername ? { username: '', secret } : { username: username ?? '', secret };
}

/** The first executable `name` in the directories of `searchPath`. */
export function findOnPath(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      if (fs.statSync(candidate).isFile()) {
        fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      }
    } catch {
      // Not here (or not executable): keep looking, as a shell would.
    }
  }
  return undefined;
}

function runWithTimeout(executable: string, program: string, serverUrl: string, options: CredentialHelperOptions): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) return reject(new BuildkitError('cancelled', `credential helper ${program} was not run: aborted`));
    // Its own process group, so a timeout also ends whatever the helper started (a shell script's children).
    const child = spawn(executable, ['get'], { env: { ...options.env }, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const kill = () => {
      try {
        if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
      } catch {
        child.kill('SIGKILL');
      }
    };
    const timer = setTimeout(() => {
      kill();
      finish(() => reject(new BuildkitError('deadline-exceeded', `credential helper ${program} did not answer for ${serverUrl} within ${options.timeoutMs} ms`)));
    }, options.timeoutMs);
    const onAbort = () => {
      kill();
      finish(() => reject(new BuildkitError('cancelled', `credential helper ${program} for ${serverUrl} was aborted`)));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });

    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxOutputBytes) {
        kill();
        finish(() => reject(new BuildkitError('protocol', `credential helper ${program} printed more than ${maxOutputBytes} bytes for ${serverUrl}`)));
      } else chunks.push(chunk);
    });
    child.stderr.resume(); // drained, never kept
    child.stdin.on('error', () => {}); // a helper that exits without reading stdin is judged by its exit code
    child.on('error', (err) => finish(() => reject(BuildkitError.from(err, `running credential helper ${program}`))));
    child.on('close', (code, signal) => {
      finish(() => resolve({ code: code ?? (signal ? 128 : 1), stdout: Buffer.concat(chunks).toString('utf8') }));
    });
    child.stdin.end(serverUrl);
  });
}
