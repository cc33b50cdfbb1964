import { BuildkitError } from '../errors';
import type { ProgressTracker } from '../progress/progress-tracker';

/** How many of the failing step's last output lines a build error quotes. */
const logLinesQuoted = 10;

/** What the explanation may use besides the error itself. */
export interface FailureContext {
  /** Target platforms of the build, if it named any. */
  platforms?: readonly string[];
  /** Progress of the failed solve: which steps failed and what they printed. */
  progress?: ProgressTracker;
  /** The SBOM generator image the build asked for (`generator=` of `attest:sbom`, else the frontend's default). */
  sbomGenerator?: string;
}

/** The Dockerfile frontend's SBOM generator when `attest:sbom` names none. */
export const defaultSbomGenerator = 'docker/buildkit-syft-scanner:stable-1';

/**
 * Make a build failure actionable: daemon messages that only make sense to
 * someone who knows BuildKit's internals get a plain explanation (the
 * daemon's own words kept), and a failed step's last output lines are
 * quoted, because the daemon's error says only "exit code: 1" while the
 * reason ("exec format error", a compiler message) is in the step's log.
 */
export function explainFailure(error: BuildkitError, context: FailureContext = {}): BuildkitError {
  const explained = (context.sbomGenerator && explainSbomGenerator(error, context.sbomGenerator)) || explainDaemonMessage(error);
  const logs = context.progress ? failedStepLogs(context.progress) : '';
  if (!logs) return explained;
  const hint = /exec format error/.test(logs) ? execFormatHint(context.platforms) : '';
  return new BuildkitError(explained.code, `${explained.message}${hint}${logs}`, {
    cause: explained,
    vertex: explained.vertex,
    grpcCode: explained.grpcCode,
  });
}

function explainDaemonMessage(error: BuildkitError): BuildkitError {
  const wrap = (message: string) => new BuildkitError('failed-precondition', message, { cause: error, grpcCode: error.grpcCode });
  const missingExporter = /exporter "(image|oci|docker)" could not be found/.exec(error.message);
  if (missingExporter) {
    return wrap(
      `this builder has no "${missingExporter[1]}" exporter: a Docker engine with the classic image store can only load, ` +
        'or write local and tar outputs; use a Docker engine with the containerd image store, or buildkitd, to push or write OCI/Docker images',
    );
  }
  // (Unknown cache importers are not errors: daemons skip imports they cannot resolve.)
  const missingCache = /unknown cache exporter: "?([\w-]+)"?/.exec(error.message);
  if (missingCache) {
    return wrap(
      `this builder cannot export cache of type "${missingCache[1]}" (it said: ${missingCache[0]}): a Docker engine with the classic ` +
        'image store exports only "inline" cache, one with the containerd image store adds "registry", "local" and "gha"; ' +
        '"s3" and "azblob" need a standalone buildkitd',
    );
  }
  const entitlement = /(?:granting )?entitlement ([\w.]+) is not allowed by (?:the )?build daemon configuration/.exec(error.message);
  if (entitlement) {
    const flag = entitlement[1]!.replace('.', '-');
    return wrap(
      `this builder does not allow the entitlement "${entitlement[1]}" (it said: ${entitlement[0]}): start buildkitd with --allow-insecure-entitlement ${entitlement[1]}, ` +
        `or set "builder": { "Entitlements": { "${flag}": true } } in the Docker engine's daemon.json`,
    );
  }
  const ociLayout = /unknown scheme oci-layout/.exec(error.message);
  if (ociLayout) {
    return wrap(
      `this builder cannot read oci-layout:// named contexts (it said: ${ociLayout[0]}): a Docker engine with the classic image store ` +
        'has no OCI layout source; use a Docker engine with the containerd image store, or buildkitd',
    );
  }
  return error;
}

/**
 * The frontend resolves the generator image before anything runs, and says
 * only "failed to resolve source metadata for <ref>": tell which option that
 * ref came from and what the builder needs.
 */
function explainSbomGenerator(error: BuildkitError, generator: string): BuildkitError | undefined {
  const said = /failed to resolve source metadata for (\S+?): (.*)$/s.exec(error.message);
  if (!said || !dockerHubForms(generator).includes(said[1]!)) return undefined;
  return new BuildkitError(
    'failed-precondition',
    `option "sbom": the SBOM generator image "${generator}" could not be resolved (it said: ${said[2]}): the builder must be able to pull it; ` +
      'push a generator image (BuildKit\'s SBOM scanner protocol, such as docker/buildkit-syft-scanner) to a registry the builder reaches and name it in sbom.generator',
    { cause: error, grpcCode: error.grpcCode },
  );
}

/** `ref` and the fully qualified names the daemon may print for it (`docker.io/[library/]…`). */
function dockerHubForms(ref: string): string[] {
  const first = ref.split('/')[0]!;
  if (ref.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return [ref];
  return [ref, `docker.io/${ref.includes('/') ? '' : 'library/'}${ref}`];
}

/** The last output lines of every step that failed (not merely cancelled), one block per step. */
function failedStepLogs(progress: ProgressTracker): string {
  let out = '';
  for (const step of progress.failed) {
    if (step.error?.endsWith('context canceled')) continue;
    const lines = progress.logsOf(step.digest).split('\n').map((l) => l.trimEnd()).filter(Boolean);
    if (!lines.length) continue;
    out += `\n${step.name}:\n${lines.slice(-logLinesQuoted).map((l) => `  ${l}`).join('\n')}`;
  }
  return out;
}

function execFormatHint(platforms: readonly string[] | undefined): string {
  const target = platforms?.length ? `for ${platforms.join(', ')} ` : '';
  return (
    ` (exec format error: the builder cannot run programs built ${target}without emulation; ` +
    'register QEMU binfmt handlers on the builder host, or build on a worker of that platform)'
  );
}
