/**
 * The `nx-buildkit:image` executor as the package ships it: both
 * implementations in one bundle (executors.json names each export with
 * Nx's `file#export` form), so the shared engine is shipped once.
 */
import './load-start';
import { markPhase } from '../../plugin/buildkit/debug-timing';
export { default as imageExecutor } from './impl';
export { default as imageBatchExecutor } from './batch-impl';

markPhase('executor: modules loaded');
