import { sharedSessionScenarios } from './scenarios/shared-sessions';
import { describeScenarios } from './support/scenario-suites';

// The engine's sessions go over Control/Session; the Docker /session transport is covered by the foundation suite.
describeScenarios(sharedSessionScenarios, { timeout: 120_000, title: 'multi-target engine' });
