import { faultScenarios } from './scenarios/faults';
import { describeScenarios } from './support/scenario-suites';

// Scenarios with a private engine or a fixed daemon run once; the others on every daemon (sessions over Control/Session).
describeScenarios(faultScenarios, { timeout: 120_000, title: 'engine faults', once: { title: 'multi-target engine under faults', timeout: 180_000 } });
