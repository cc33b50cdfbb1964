import { authScenarios } from './scenarios/auth';
import { describeScenarios } from './support/scenario-suites';

describeScenarios(authScenarios, { timeout: 60_000, transports: 'feature' });
