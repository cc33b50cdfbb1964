import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { type DockerConfig, emptyDockerConfig, parseDockerConfig } from './docker-config';

/** An environment to read `DOCKER_CONFIG`, `HOME` and `PATH` from. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The directory holding `config.json`, found as the docker CLI finds it:
 * `DOCKER_CONFIG`, else `~/.docker` (`HOME` from `env`, else the OS's idea of home).
 */
export function dockerConfigDir(env: Environment): string {
  if (env['DOCKER_CONFIG']) return env['DOCKER_CONFIG'];
  return path.join(env['HOME'] || os.homedir(), '.docker');
}

/**
 * Read `<dir>/config.json`. A missing file means "no credentials" (a machine
 * that never ran `docker login`); a file that exists but cannot be read or
 * parsed is an error naming it.
 */
export async function loadDockerConfig(dir: string, options: { signal?: AbortSignal } = {}): Promise<DockerConfig> {
  const file = path.join(dir, 'config.json');
  let text: string;
  try {
    text = await fs.readFile(file, { encoding: 'utf8', signal: options.signal });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ...emptyDockerConfig };
    throw BuildkitError.from(err, `reading Docker config ${file}`);
  }
  return parseDockerConfig(text, file);
}
