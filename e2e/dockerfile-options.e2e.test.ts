import { dockerfileOptionsScenarios } from './scenarios/dockerfile-options';
import { describeScenarios } from './support/scenario-suites';

// Sessions over Control/Session only: the Docker /session transport is covered by dockerfile-build.
describeScenarios(dockerfileOptionsScenarios, { timeout: 120_000 });
