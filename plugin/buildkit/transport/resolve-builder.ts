import { BuildkitError } from '../errors';
import {
  defaultBuildkitdAddress, defaultDockerSocket, dockerHostAddress, parseBuilderAddress, type BuilderAddress, type TlsFiles,
} from './builder-address';

/** Where a candidate address came from, for messages. */
export interface BuilderCandidate {
  address: BuilderAddress;
  source: 'option' | 'BUILDKIT_HOST' | 'DOCKER_HOST' | 'default Docker socket' | 'default buildkitd socket';
}

/**
 * The builders to try, in order, as buildx resolves them: an explicit
 * address, else BUILDKIT_HOST (each is then the only candidate: a configured
 * builder that fails is an error, never a silent fallback), else the Docker
 * engine (DOCKER_HOST or the default socket), then the default buildkitd
 * socket.
 */
export function builderCandidates(explicit: string | undefined, env: Record<string, string | undefined>, tls?: TlsFiles): BuilderCandidate[] {
  if (explicit) return [{ address: parseBuilderAddress(explicit, tls), source: 'option' }];
  if (env.BUILDKIT_HOST) return [{ address: parseBuilderAddress(env.BUILDKIT_HOST, tls), source: 'BUILDKIT_HOST' }];
  const docker: BuilderCandidate = env.DOCKER_HOST
    ? { address: dockerHostAddress(env.DOCKER_HOST), source: 'DOCKER_HOST' }
    : { address: parseBuilderAddress(`docker://${defaultDockerSocket}`), source: 'default Docker socket' };
  return [docker, { address: parseBuilderAddress(defaultBuildkitdAddress), source: 'default buildkitd socket' }];
}

/** One error that lists every builder tried and why each failed. */
export function noBuilderError(failures: Array<{ candidate: BuilderCandidate; error: unknown }>): BuildkitError {
  const lines = failures.map(({ candidate, error }) => {
    const why = error instanceof Error ? error.message : String(error);
    return `  - ${candidate.address.display} (${candidate.source}): ${why}`;
  });
  return new BuildkitError('unavailable', `no BuildKit daemon answered; tried:\n${lines.join('\n')}`, {
    cause: failures.map((f) => f.error),
  });
}
