import fs from 'node:fs';
import { BuildkitError } from '../../errors';

/** Where one build secret's value comes from. Exactly one source per secret. */
export type SecretSpec =
  /** The contents of a file on this machine. */
  | { id: string; file: string }
  /** The value of an environment variable of this process (or of `env` given to the loader). */
  | { id: string; env: string }
  /** A value held in memory (library users, tests). */
  | { id: string; value: string | Uint8Array };

/**
 * Largest secret served. BuildKit's own provider refuses anything larger
 * (`MaxSecretSize`, 500 KiB), so a bigger value could never work with the
 * Go client either; failing here names the secret instead of the daemon
 * failing mid-build.
 */
export const maxSecretBytes = 500 * 1024;

/**
 * Read and check one secret's source. Errors name the secret ID and the
 * source (file path or variable name), never the value.
 */
export async function readSecretSource(spec: SecretSpec, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Buffer> {
  const value = await readSource(spec, env, signal);
  checkSecretSize(spec.id, value.length, describeSource(spec));
  return value;
}

/** Fail when a secret is larger than BuildKit accepts. */
export function checkSecretSize(id: string, bytes: number, source: string): void {
  if (bytes > maxSecretBytes) {
    throw new BuildkitError('invalid-argument', `secret "${id}" from ${source} is ${bytes} bytes; BuildKit accepts at most ${maxSecretBytes} bytes (500 KiB)`);
  }
}

/** "file /path", "environment variable NAME" or "an in-memory value", for messages. */
export function describeSource(spec: SecretSpec): string {
  if ('file' in spec) return `file ${spec.file}`;
  if ('env' in spec) return `environment variable ${spec.env}`;
  return 'an in-memory value';
}

async function readSource(spec: SecretSpec, env: NodeJS.ProcessEnv, signal?: AbortSignal): Promise<Buffer> {
  if ('file' in spec) return readSecretFile(spec.id, spec.file, signal);
  if ('env' in spec) {
    const value = env[spec.env];
    // An empty but set variable is a legitimate (empty) secret; only an unset one is an error.
    if (value === undefined) throw new BuildkitError('not-found', `secret "${spec.id}": environment variable ${spec.env} is not set`);
    return Buffer.from(value, 'utf8');
  }
  return typeof spec.value === 'string' ? Buffer.from(spec.value, 'utf8') : Buffer.from(spec.value);
}

async function readSecretFile(id: string, file: string, signal?: AbortSignal): Promise<Buffer> {
  let handle: fs.promises.FileHandle | undefined;
  try {
    handle = await fs.promises.open(file, 'r');
    const stat = await handle.stat();
    if (stat.isDirectory()) throw new BuildkitError('invalid-argument', `secret "${id}": ${file} is a directory, not a file`);
    // Check the size before reading, so a huge file is refused without loading it.
    if (stat.isFile()) checkSecretSize(id, stat.size, `file ${file}`);
    return await handle.readFile({ signal });
  } catch (err) {
    if (err instanceof BuildkitError) throw err;
    const wrapped = BuildkitError.from(err);
    if (wrapped.code === 'cancelled') throw wrapped;
    const reason = (err as NodeJS.ErrnoException).code ?? wrapped.message;
    throw new BuildkitError(wrapped.code === 'unknown' ? 'invalid-argument' : wrapped.code, `secret "${id}": cannot read file ${file} (${reason})`, { cause: err });
  } finally {
    await handle?.close();
  }
}
