import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { State } from '../llb/state';
import { marshal } from '../llb/marshal';
import type { BuildSpec } from './build-spec';
import type { ContextSource } from './context-source';

/** How a build serves a Dockerfile given as text (`BuildSpec.dockerfileText`). */
export interface DockerfileOverride extends AsyncDisposable {
  /** The context source to use: for LLB frontend inputs, the Dockerfile input is the text itself. */
  source: ContextSource;
  /** A private directory the build's own session serves as `dockerfile`, when the text is served that way. */
  dockerfileDir?: string;
}

/**
 * Serve `spec.dockerfileText` instead of the Dockerfile on disk, whatever
 * the context source. With LLB frontend inputs the Dockerfile input becomes
 * a one-file scratch state holding the text (nothing to serve). Otherwise
 * the build's own session serves it from a private directory under the
 * Dockerfile's own name, with its `<name>.dockerignore` beside it (newer
 * frontends read that from the Dockerfile's directory); the shared session
 * then serves the context only. Without text, nothing changes.
 */
export async function overrideDockerfile(spec: BuildSpec, source: ContextSource): Promise<DockerfileOverride> {
  const text = spec.dockerfileText;
  if (text === undefined) return { source, [Symbol.asyncDispose]: async () => {} };
  if (source.kind === 'frontend-inputs') {
    const dockerfile = marshal(State.scratch().mkfile('/Dockerfile', text));
    return { source: { ...source, dockerfile, filename: 'Dockerfile' }, [Symbol.asyncDispose]: async () => {} };
  }
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nxbk-dockerfile-'));
  try {
    const name = path.basename(spec.dockerfile);
    await fs.writeFile(path.join(dir, name), text);
    await fs.copyFile(`${spec.dockerfile}.dockerignore`, path.join(dir, `${name}.dockerignore`)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  } catch (err) {
    await fs.rm(dir, { recursive: true, force: true });
    throw err;
  }
  return { source, dockerfileDir: dir, [Symbol.asyncDispose]: () => fs.rm(dir, { recursive: true, force: true }) };
}
