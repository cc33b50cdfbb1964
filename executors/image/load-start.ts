import { markPhase } from '../../plugin/buildkit/debug-timing';

// Imported first by the executor's entry, so this runs before the rest of its modules load.
markPhase('executor: module load starts');
