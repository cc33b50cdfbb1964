import type { BuildkitClient } from '../client';
import { probeBinding, type BindingMechanism } from './binding-probe';
import { probeNamedContexts } from './named-context-probe';

/** Everything known about one builder, as `--print` shows it. */
export interface CapabilitiesReport {
  /** The builder's address as users wrote it. */
  builder: string;
  /** BuildKit's own version (`Control/Info`, BuildKit 0.11+); undefined when the daemon does not say. */
  version?: string;
  /** How a solve reads its context from the run's shared session. */
  binding: BindingMechanism;
  /** Whether the Dockerfile frontend honours `context:<name>` (named contexts). */
  namedContexts: boolean;
  /** A Docker engine's image store; undefined for a standalone buildkitd. */
  imageStore?: 'classic' | 'containerd';
  /** Exporters the builder offers. */
  exporters: string[];
  /** Cache exporters the builder offers. */
  cacheExporters: string[];
  /** How sessions reach the daemon: BuildKit's Control/Session (`grpc`), or a Docker engine's `/session` upgrade (`docker`). */
  sessionTransports: Array<'grpc' | 'docker'>;
}

/**
 * The capabilities of one builder, each found out at most once for the life
 * of this object (one per run): a capability is probed when it is first
 * needed, never by version string (Debian-built daemons report
 * `v0.0.0+unknown`), and a failed probe is asked again next time (an
 * unreachable daemon is never an answer).
 */
export class BuilderCapabilities {
  private bindingAnswer?: Promise<BindingMechanism>;
  private namedAnswer?: Promise<boolean>;

  constructor(private readonly client: BuildkitClient) {}

  /** How locals can be pointed at another session (see binding-probe.ts). */
  binding(signal?: AbortSignal): Promise<BindingMechanism> {
    return (this.bindingAnswer ??= forgetFailure(probeBinding(this.client, signal), () => (this.bindingAnswer = undefined)));
  }

  /**
   * Whether the Dockerfile frontend knows named contexts (frontend 1.4). A
   * frontend that takes `local-sessionid:` attributes (1.10) knows them: no
   * second probe when the binding probe already said so.
   */
  async namedContexts(signal?: AbortSignal): Promise<boolean> {
    if (this.bindingAnswer && (await this.bindingAnswer.catch(() => undefined)) === 'local-sessionid') return true;
    return (this.namedAnswer ??= forgetFailure(probeNamedContexts(this.client, signal), () => (this.namedAnswer = undefined)));
  }

  /** Every capability, probing what is not known yet. */
  async report(signal?: AbortSignal): Promise<CapabilitiesReport> {
    const binding = await this.binding(signal);
    const [namedContexts, imageStore, info] = await Promise.all([this.namedContexts(signal), this.client.imageStore({ signal }), this.client.control.info({ signal })]);
    const docker = this.client.address.kind === 'docker';
    return {
      builder: this.client.address.display,
      ...(info?.version ? { version: info.version } : {}),
      binding,
      namedContexts,
      ...(imageStore ? { imageStore } : {}),
      ...offeredExporters(imageStore),
      sessionTransports: docker ? ['grpc', 'docker'] : ['grpc'],
    };
  }
}

/**
 * BuildKit has no call that lists exporters; which ones a builder offers
 * follows from its image store (the facts build/explain-failure.ts explains
 * to users): a classic-store engine has only its own `moby` exporter plus
 * local and tar, and exports only inline cache; the containerd store adds
 * BuildKit's image exporters and the registry, local and gha caches; a
 * standalone buildkitd has all of them and also the s3 and azblob caches.
 */
function offeredExporters(imageStore: 'classic' | 'containerd' | undefined): Pick<CapabilitiesReport, 'exporters' | 'cacheExporters'> {
  if (imageStore === 'classic') return { exporters: ['moby', 'local', 'tar'], cacheExporters: ['inline'] };
  if (imageStore === 'containerd') return { exporters: ['moby', 'image', 'oci', 'docker', 'local', 'tar'], cacheExporters: ['inline', 'registry', 'local', 'gha'] };
  return { exporters: ['image', 'oci', 'docker', 'local', 'tar'], cacheExporters: ['inline', 'registry', 'local', 'gha', 's3', 'azblob'] };
}

/** The report as `--print` shows it, one capability a line. */
export function formatCapabilities(report: CapabilitiesReport): string {
  return [
    `builder ${report.builder}${report.version ? ` (BuildKit ${report.version})` : ''}`,
    `  binding: ${report.binding}`,
    `  named contexts: ${report.namedContexts ? 'yes' : 'no'}`,
    ...(report.imageStore ? [`  image store: ${report.imageStore}`] : []),
    `  exporters: ${report.exporters.join(', ')}`,
    `  cache exporters: ${report.cacheExporters.join(', ')}`,
    `  session transports: ${report.sessionTransports.join(', ')}`,
  ].join('\n');
}

function forgetFailure<T>(answer: Promise<T>, forget: () => void): Promise<T> {
  answer.catch(forget);
  return answer;
}
