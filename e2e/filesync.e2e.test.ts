import { filesyncScenarios } from './scenarios/filesync';
import { describeScenarios } from './support/scenario-suites';

describeScenarios(filesyncScenarios, { timeout: 120_000, transports: 'feature' });
