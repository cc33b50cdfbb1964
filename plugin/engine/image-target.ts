import type { BuildSpec } from '../buildkit/index';

/** Which session serves a target's context and Dockerfile. */
export type ContextPolicy = 'shared' | 'isolated';

/** One image build of a multi-target run. */
export interface ImageTarget {
  /** Unique in the run, e.g. `api:image`; used in messages and as the scheduler key. */
  id: string;
  spec: BuildSpec;
  /** Targets that must succeed first. */
  dependsOn: readonly string[];
  /** `shared` (default): the run's shared session serves the context; `isolated`: the target's own session does. */
  contextPolicy: ContextPolicy;
}
