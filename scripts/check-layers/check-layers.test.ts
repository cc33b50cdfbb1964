import { describe, expect, test } from 'bun:test';
import path from 'node:path';
import { layerViolations } from './check-layers';
import { brokenRule } from './import-rules';

describe('the layering rules', () => {
  test('every import of the repository follows them', () => {
    expect(layerViolations(path.resolve(import.meta.dir, '..', '..'))).toEqual([]);
  });

  const broken = (from: string, specifier: string, to?: string) => brokenRule({ from, specifier, ...(to ? { to } : {}) });

  test('the client imports no Nx, no zod, nothing above it', () => {
    expect(broken('plugin/buildkit/build/build-image.ts', 'zod')).toMatch(/imports only/);
    expect(broken('plugin/buildkit/build/build-image.ts', '@nx/devkit')).toMatch(/imports only/);
    expect(broken('plugin/buildkit/build/build-image.ts', '../../engine/image-target', 'plugin/engine/image-target.ts')).toMatch(/nothing of the plugin above it/);
    expect(broken('plugin/buildkit/build/build-image.ts', 'node:fs')).toBeUndefined();
    expect(broken('plugin/buildkit/client.ts', '@grpc/grpc-js')).toBeUndefined();
  });

  test('inside the client: control/ and session/ apart, session/ never imports attachables, gen/ only through wire.ts', () => {
    expect(broken('plugin/buildkit/control/control-client.ts', '../session/session', 'plugin/buildkit/session/session.ts')).toMatch(/do not import each other/);
    expect(broken('plugin/buildkit/session/session.ts', '../control/rpc', 'plugin/buildkit/control/rpc.ts')).toMatch(/do not import each other/);
    expect(broken('plugin/buildkit/session/session.ts', '../attachables/filesync/wire', 'plugin/buildkit/attachables/filesync/wire.ts')).toMatch(/never imports them/);
    expect(broken('plugin/buildkit/attachables/ssh/ssh-provider.ts', '../../gen/types', 'plugin/buildkit/gen/types.ts')).toMatch(/wire\.ts/);
    expect(broken('plugin/buildkit/attachables/ssh/wire.ts', '../../gen/types', 'plugin/buildkit/gen/types.ts')).toBeUndefined();
    expect(broken('plugin/buildkit/session/session.test.ts', '../attachables/filesync/file-sync-provider', 'plugin/buildkit/attachables/filesync/file-sync-provider.ts')).toBeUndefined();
  });

  test('layers above the client point one way', () => {
    expect(broken('plugin/config/normalize.ts', '../engine/image-target', 'plugin/engine/image-target.ts')).toMatch(/config never imports plugin\/engine/);
    expect(broken('plugin/engine/plan-links.ts', '../nodes/x', 'plugin/nodes/x.ts')).toMatch(/never imports plugin\/nodes/);
    expect(broken('plugin/nodes/image-projects.ts', '../buildkit/index', 'plugin/buildkit/index.ts')).toMatch(/never the client/);
    expect(broken('plugin/engine/run.ts', '../../executors/image/x', 'executors/image/x.ts')).toMatch(/never imports executors/);
    expect(broken('plugin/metadata/git-info.ts', '../buildkit/errors', 'plugin/buildkit/errors.ts')).toMatch(/only through plugin\/buildkit\/index\.ts/);
    expect(broken('executors/image/run-image-tasks.ts', '../../plugin/engine/run-engine', 'plugin/engine/run-engine.ts')).toBeUndefined();
  });

  test('e2e and bench use only public entry points', () => {
    expect(broken('e2e/scenarios/faults.ts', '../../plugin/engine/run-engine', 'plugin/engine/run-engine.ts')).toMatch(/public entry points/);
    expect(broken('e2e/scenarios/faults.ts', '../../plugin/engine/index', 'plugin/engine/index.ts')).toBeUndefined();
    expect(broken('bench/filesync/our-transfer.ts', '../../plugin/buildkit/build/build-image', 'plugin/buildkit/build/build-image.ts')).toMatch(/public entry points/);
  });
});
