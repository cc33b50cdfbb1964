import { foundationScenarios } from './scenarios/foundation';
import { describeScenarios } from './support/scenario-suites';

describeScenarios(foundationScenarios, { timeout: 60_000, transports: 'all' });
