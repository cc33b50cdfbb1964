import { PassThrough } from 'node:stream';
import { BuildkitError } from '../errors';
import { dockerHostAddress, defaultDockerSocket, type DockerEndpoint } from '../transport/builder-address';
import { engineApiRequest, engineDisplay, readEngineStream } from '../transport/engine-api';
import { engineImageStore } from '../transport/engine-image-store';
import type { OutputTarget } from '../attachables/filesend/file-send-provider';

/** Silence allowed while the engine reads the tarball (it answers only at the end). */
const loadIdleTimeoutMs = 300_000;

/** The Docker engine a `load` on a builder without an image store goes into. */
export interface LoadEngine {
  endpoint: DockerEndpoint;
  imageStore: 'classic' | 'containerd';
}

/**
 * Find the Docker engine to load into, as buildx's docker-container driver
 * does: `DOCKER_HOST`, else the default socket. It must answer now, so a
 * build that cannot be loaded fails before it runs.
 */
export async function findLoadEngine(env: Record<string, string | undefined>, signal?: AbortSignal): Promise<LoadEngine> {
  const dockerHost = env.DOCKER_HOST;
  const address = dockerHost ? dockerHostAddress(dockerHost) : { kind: 'docker' as const, endpoint: { socketPath: defaultDockerSocket } };
  if (address.kind !== 'docker') throw new BuildkitError('invalid-argument', `DOCKER_HOST "${dockerHost}" does not name a Docker engine`);
  const where = dockerHost ? `DOCKER_HOST (${dockerHost})` : `the default socket ${defaultDockerSocket}`;
  try {
    return { endpoint: address.endpoint, imageStore: await engineImageStore(address.endpoint, signal) };
  } catch (err) {
    throw new BuildkitError(
      'failed-precondition',
      `load needs a Docker engine to load the image into, and none answers at ${where} (${BuildkitError.from(err).message}): ` +
        'set DOCKER_HOST to a running engine, or write the image elsewhere (push, or a docker/oci output)',
      { cause: err },
    );
  }
}

/**
 * A tarball stream into the engine's `POST /images/load`: the exporter
 * writes into `target`, and `done` settles once the engine has read and
 * stored it (or failed). `abort` stops the upload when the build fails.
 */
export function loadIntoEngine(engine: LoadEngine, signal?: AbortSignal): { target: OutputTarget; done: Promise<void>; abort: (why: Error) => void } {
  const stream = new PassThrough();
  const where = engineDisplay(engine.endpoint);
  const done = engineApiRequest(engine.endpoint, 'POST', '/images/load?quiet=1', {
    signal,
    timeoutMs: loadIdleTimeoutMs,
    headers: { 'content-type': 'application/x-tar' },
    body: stream,
  }).then(
    (answer) => {
      // The engine answered: the exporter must not wait on a reader that is gone.
      if (!stream.writableFinished) stream.destroy(new BuildkitError('failed-precondition', `the Docker engine at ${where} stopped reading the image`));
      readEngineStream(answer, `loading the image into the Docker engine at ${where}`);
    },
    (err: unknown) => {
      const error = BuildkitError.from(err, `loading the image into the Docker engine at ${where}`);
      stream.destroy(error);
      throw error;
    },
  );
  // Observed here too: when the build fails first, nobody else may be waiting on it.
  done.catch(() => {});
  return { target: { kind: 'stream', stream, display: `the Docker engine at ${where}` }, done, abort: (why) => stream.destroy(why) };
}
