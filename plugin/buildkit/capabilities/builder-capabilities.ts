import type { BuildkitClient } from '../client';
import { markPhase } from '../debug-timing';
import { probeBinding, type BindingMechanism } from './binding-probe';
import { builderIdentity } from './builder-identity';
import type { CapabilitySource, CapabilityStore, RememberedCapabilities } from './capability-store';
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
  /** Where `binding` and `namedContexts` came from: remembered from an earlier run, or probed now. */
  sources: { binding: CapabilitySource; namedContexts: CapabilitySource };
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
 *
 * With a {@link CapabilityStore}, an answer probed on a builder is kept
 * under the builder's identity, and a later run on the same builder takes it
 * from there instead of probing: the probes are solves, the slowest part of
 * a run's start. A remembered binding that proves wrong (a solve fails the
 * way an unsupported binding fails) is probed again with {@link reprobeBinding}.
 */
export class BuilderCapabilities {
  private bindingAnswer?: Promise<BindingMechanism>;
  private namedAnswer?: Promise<boolean>;
  private remembered?: Promise<Recalled>;
  private bindingFrom?: CapabilitySource;
  private namedFrom?: CapabilitySource;
  private readonly store?: CapabilityStore;

  constructor(
    private readonly client: BuildkitClient,
    options: { store?: CapabilityStore } = {},
  ) {
    this.store = options.store;
  }

  /** How locals can be pointed at another session (see binding-probe.ts). */
  binding(signal?: AbortSignal): Promise<BindingMechanism> {
    return (this.bindingAnswer ??= forgetFailure(this.findBinding(signal), () => (this.bindingAnswer = undefined)));
  }

  /** Where the binding came from; undefined until it is known. */
  get bindingSource(): CapabilitySource | undefined {
    return this.bindingFrom;
  }

  /**
   * Probe the binding again, whatever is remembered: the store forgets what
   * it kept for this builder and keeps the new answer. For a remembered
   * binding that a solve proved wrong.
   */
  reprobeBinding(signal?: AbortSignal): Promise<BindingMechanism> {
    const answer = (async () => {
      const { identity } = await this.recall(signal);
      this.remembered = Promise.resolve({ identity });
      if (this.namedFrom === 'store') this.namedAnswer = undefined;
      if (identity) await this.store?.forget(identity).catch(() => {});
      return this.probeAndKeep(identity, signal);
    })();
    this.bindingAnswer = forgetFailure(answer, () => (this.bindingAnswer = undefined));
    return this.bindingAnswer;
  }

  /**
   * Whether the Dockerfile frontend knows named contexts (frontend 1.4). A
   * frontend that takes `local-sessionid:` attributes (1.10) knows them: no
   * second probe when the binding probe already said so.
   */
  async namedContexts(signal?: AbortSignal): Promise<boolean> {
    if (this.bindingAnswer && (await this.bindingAnswer.catch(() => undefined)) === 'local-sessionid') {
      this.namedFrom = this.bindingFrom;
      return true;
    }
    return (this.namedAnswer ??= forgetFailure(this.findNamedContexts(signal), () => (this.namedAnswer = undefined)));
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
      sources: { binding: this.bindingFrom ?? 'probe', namedContexts: this.namedFrom ?? 'probe' },
      ...(imageStore ? { imageStore } : {}),
      ...offeredExporters(imageStore),
      sessionTransports: docker ? ['grpc', 'docker'] : ['grpc'],
    };
  }

  private async findBinding(signal?: AbortSignal): Promise<BindingMechanism> {
    const { identity, answers } = await this.recall(signal);
    if (answers?.binding) {
      this.bindingFrom = 'store';
      markPhase(`capabilities: binding remembered (${answers.binding})`);
      return answers.binding;
    }
    return this.probeAndKeep(identity, signal);
  }

  private async probeAndKeep(identity: string | undefined, signal?: AbortSignal): Promise<BindingMechanism> {
    markPhase('capabilities: binding probe starts');
    const probed = await probeBinding(this.client, signal);
    this.bindingFrom = 'probe';
    if (identity) await this.store?.write(identity, { binding: probed }).catch(() => {});
    return probed;
  }

  private async findNamedContexts(signal?: AbortSignal): Promise<boolean> {
    const { identity, answers } = await this.recall(signal);
    if (answers?.namedContexts !== undefined) {
      this.namedFrom = 'store';
      return answers.namedContexts;
    }
    markPhase('capabilities: named-context probe starts');
    const probed = await probeNamedContexts(this.client, signal);
    this.namedFrom = 'probe';
    if (identity) await this.store?.write(identity, { namedContexts: probed }).catch(() => {});
    return probed;
  }

  /**
   * The builder's identity and what the store keeps for it, asked once; a
   * builder that cannot tell who it is, or a store that cannot be read,
   * leaves every capability to its probe (and is asked again next time).
   */
  private recall(signal?: AbortSignal): Promise<Recalled> {
    const store = this.store;
    if (!store) return Promise.resolve({});
    this.remembered ??= (async () => {
      const identity = await builderIdentity(this.client, signal);
      return identity ? { identity, answers: await store.read(identity) } : {};
    })();
    return this.remembered.catch(() => {
      this.remembered = undefined;
      return {};
    });
  }
}

interface Recalled {
  identity?: string;
  answers?: RememberedCapabilities;
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
    `  binding: ${report.binding} (${sourceText[report.sources.binding]})`,
    `  named contexts: ${report.namedContexts ? 'yes' : 'no'} (${sourceText[report.sources.namedContexts]})`,
    ...(report.imageStore ? [`  image store: ${report.imageStore}`] : []),
    `  exporters: ${report.exporters.join(', ')}`,
    `  cache exporters: ${report.cacheExporters.join(', ')}`,
    `  session transports: ${report.sessionTransports.join(', ')}`,
  ].join('\n');
}

const sourceText: Record<CapabilitySource, string> = { store: 'remembered from an earlier run', probe: 'probed' };

function forgetFailure<T>(answer: Promise<T>, forget: () => void): Promise<T> {
  answer.catch(forget);
  return answer;
}
