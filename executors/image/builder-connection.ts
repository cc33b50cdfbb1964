import path from 'node:path';
import { BuildkitClient, type TlsFiles } from '../../plugin/buildkit/index';
import type { ImageExecutorOptions } from '../../plugin/config/executor-options';

type BuilderOptions = Pick<ImageExecutorOptions, 'builder' | 'builderTls'>;

/**
 * The run's connection to its builder, started as soon as the first task's
 * options are parsed, so connecting (and what the engine asks the daemon
 * first, see `onConnected`) overlaps reading git and normalizing the run.
 * {@link take} hands the client over when the run's builder is the one
 * connected to (else it connects anew); a connection nobody took is closed
 * on dispose. Failures surface where the client is taken, as if it had
 * been connected only then.
 */
export class BuilderConnection implements AsyncDisposable {
  private taken = false;

  private constructor(
    private readonly key: string | undefined,
    private readonly connecting: Promise<BuildkitClient> | undefined,
  ) {}

  /** Connect to the builder of `options` now; `options` undefined: nothing to connect to yet. */
  static start(options: BuilderOptions | undefined, workspaceRoot: string, signal: AbortSignal | undefined, onConnected: (client: BuildkitClient) => void): BuilderConnection {
    if (!options) return new BuilderConnection(undefined, undefined);
    const connecting = connect(options, workspaceRoot, signal);
    connecting.then(onConnected, () => {});
    return new BuilderConnection(keyOf(options), connecting);
  }

  /** The client for the run's builder; the caller closes it. */
  take(options: BuilderOptions, workspaceRoot: string, signal: AbortSignal | undefined): Promise<BuildkitClient> {
    if (this.connecting && !this.taken && keyOf(options) === this.key) {
      this.taken = true;
      return this.connecting;
    }
    return connect(options, workspaceRoot, signal);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (this.taken || !this.connecting) return;
    this.taken = true;
    const client = await this.connecting.catch(() => undefined);
    await client?.close();
  }
}

function keyOf(options: BuilderOptions): string {
  return JSON.stringify([options.builder ?? null, options.builderTls ?? null]);
}

function connect(options: BuilderOptions, workspaceRoot: string, signal: AbortSignal | undefined): Promise<BuildkitClient> {
  return connectBuilder(options, workspaceRoot, signal);
}

/** A client of the builder the options name (`builder`, `builderTls`), within `timeoutMs` when given. */
export function connectBuilder(options: BuilderOptions, workspaceRoot: string, signal: AbortSignal | undefined, timeoutMs?: number): Promise<BuildkitClient> {
  return BuildkitClient.connect({
    address: options.builder,
    ...(options.builderTls ? { tls: tlsFiles(options.builderTls, workspaceRoot) } : {}),
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    signal,
  });
}

/** TLS files of the `builderTls` option, resolved against the workspace root. */
function tlsFiles(tls: NonNullable<ImageExecutorOptions['builderTls']>, workspaceRoot: string): TlsFiles {
  return {
    ...(tls.caFile ? { caFile: path.resolve(workspaceRoot, tls.caFile) } : {}),
    ...(tls.certFile ? { certFile: path.resolve(workspaceRoot, tls.certFile) } : {}),
    ...(tls.keyFile ? { keyFile: path.resolve(workspaceRoot, tls.keyFile) } : {}),
    ...(tls.serverName ? { serverName: tls.serverName } : {}),
  };
}
