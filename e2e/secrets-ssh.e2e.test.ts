import { secretsSshScenarios } from './scenarios/secrets-ssh';
import { describeScenarios } from './support/scenario-suites';

describeScenarios(secretsSshScenarios, { timeout: 60_000, transports: 'feature' });
