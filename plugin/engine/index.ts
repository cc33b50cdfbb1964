/**
 * The multi-target engine's public face (`nx-buildkit/engine`): build many
 * targets against one builder with shared and per-target sessions, and the
 * pure plan of such a run. The batch executor, the e2e suite and tools
 * import the engine only from here.
 */
export type { ImageTarget } from './image-target';
export { runTargets, setUpId, type RunEvent, type RunOptions, type RunReport, type TargetOutcome } from './run-engine';
export { planRun, formatPlan, type RunPlan } from './run-plan';
export { SharedSessions } from './shared-sessions';
