import { describe, expect, test } from 'bun:test';
import { InvalidOptionsError, parseImageOptions } from './executor-options';
import { normalizeImageTask } from './normalize-image-task';

const normalize = (namedContexts: Record<string, string>, imageOfTask?: (task: string) => string | undefined) =>
  normalizeImageTask(
    parseImageOptions({ namedContexts }, { project: 'web', target: 'image' }),
    { project: 'web', target: 'image', projectRoot: 'apps/web', workspaceRoot: '/ws' },
    [],
    { imageNames: ['web:latest'], labels: {}, ...(imageOfTask ? { imageOfTask } : {}) },
  );

describe('named contexts', () => {
  test('target:<project> becomes the image that task of the run builds', () => {
    const images: Record<string, string> = { base: 'registry.example/base:1', 'tools:image': 'tools:latest' };
    const task = normalize({ b: 'target:base', t: 'target:tools:image', d: 'docker-image://alpine:3' }, (name) => images[name]);
    expect(task.target.spec.namedContexts).toEqual({
      b: { kind: 'image', ref: 'registry.example/base:1' },
      t: { kind: 'image', ref: 'tools:latest' },
      d: { kind: 'image', ref: 'alpine:3' },
    });
  });

  test('a target: naming no task of the run is an option error naming project, target and field', () => {
    let error: unknown;
    try {
      normalize({ b: 'target:nosuch' }, () => undefined);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidOptionsError);
    expect((error as InvalidOptionsError).problems).toEqual([
      'web:image: option "namedContexts.b": "target:nosuch" names no image task of this run (expected target:<project> or target:<project>:<target> of a task run with this one)',
    ]);
    expect(() => normalize({ b: 'tarball:x' })).toThrow('must start with docker-image://, local:, oci-layout:// or target:');
  });
});
