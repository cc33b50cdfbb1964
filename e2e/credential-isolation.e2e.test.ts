import { test } from 'bun:test';
import { credentialIsolationScenarios, credentialIsolationSkipReason } from './scenarios/credential-isolation';
import { describeScenarios } from './support/scenario-suites';

if (credentialIsolationSkipReason) test.skip(`registry credentials never cross targets: ${credentialIsolationSkipReason}`, () => {});

describeScenarios(credentialIsolationScenarios, { timeout: 300_000 });
