import type { Definition } from '../llb/marshal';

/**
 * Where a build's main context and Dockerfile come from. By default the
 * build's own session serves both; a multi-target run points them at a
 * shared session instead, by one of the mechanisms a daemon generation
 * supports (see session-experiments: the own session must then NOT serve
 * them, or a daemon could silently fall back to it).
 */
export type ContextSource =
  /** The build's own session serves `context` and `dockerfile`. */
  | { kind: 'own-session' }
  /**
   * Dockerfile frontend ≥ 1.10 (BuildKit ≥ 0.16): the frontend asks
   * `sessionId` for the `context` local and for the Dockerfile under
   * `dockerfileLocal` (`dockerfilekey`).
   */
  | { kind: 'local-sessionid'; sessionId: string; dockerfileLocal: string }
  /**
   * BuildKit ≥ 0.10 (and ≤ 0.9 after a prefetch): the frontend gets the
   * context and Dockerfile as LLB inputs, local sources that name the
   * shared session; `filename` is the Dockerfile's path inside `dockerfile`.
   */
  | { kind: 'frontend-inputs'; context: Definition; dockerfile: Definition; filename: string };
