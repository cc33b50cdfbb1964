import { dockerfileBuildScenarios } from './scenarios/dockerfile-build';
import { describeScenarios } from './support/scenario-suites';

describeScenarios(dockerfileBuildScenarios, { timeout: 60_000, transports: 'feature' });
