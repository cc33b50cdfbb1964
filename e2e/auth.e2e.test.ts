import { test } from 'bun:test';
import { authScenarios, authSkipReason } from './scenarios/auth';
import { describeScenarios } from './support/scenario-suites';

if (authSkipReason) test.skip(`registry auth: ${authSkipReason}`, () => {});

describeScenarios(authScenarios, { timeout: 60_000, transports: 'feature' });
