import type { BindingMechanism } from './binding-probe';

/** What was found out about one builder by probing it, as kept between runs. */
export interface RememberedCapabilities {
  binding?: BindingMechanism;
  namedContexts?: boolean;
}

/** Where a capability came from: remembered from an earlier run, or probed in this one. */
export type CapabilitySource = 'store' | 'probe';

/**
 * Where probed capabilities are kept between runs, by builder identity (see
 * builder-identity.ts). The caller supplies it: the client decides nothing
 * about files. Failures of a store are never failures of a run (the
 * capabilities are then probed, as without a store).
 */
export interface CapabilityStore {
  read(identity: string): Promise<RememberedCapabilities | undefined>;
  /** Merge `answers` into what is kept for `identity`. */
  write(identity: string, answers: RememberedCapabilities): Promise<void>;
  /** Drop everything kept for `identity` (a remembered answer proved wrong). */
  forget(identity: string): Promise<void>;
}
