import { contentStoreScenarios } from './scenarios/content-store';
import { describeScenarios } from './support/scenario-suites';

// Two solves and a 2 MB root filesystem per import scenario.
describeScenarios(contentStoreScenarios, { timeout: 120_000, transports: 'feature' });
