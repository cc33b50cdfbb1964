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
  /**
   * Every name of the image this target builds (`repo:tag`, whether or not
   * it is pushed or loaded): a target of the same run whose Dockerfile
   * names one of them is linked to this target's result (see links/).
   */
  imageNames?: readonly string[];
}
