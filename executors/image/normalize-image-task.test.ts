import { describe, expect, test } from 'bun:test';
import { InvalidOptionsError, parseImageOptions } from '../../plugin/config/executor-options';
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

/** The build spec of `web:image` with these raw options. */
const spec = (raw: Record<string, unknown>) =>
  normalizeImageTask(parseImageOptions(raw, { project: 'web', target: 'image' }), { project: 'web', target: 'image', projectRoot: 'apps/web', workspaceRoot: '/ws' }, [], {
    imageNames: ['web:latest'],
    labels: {},
  }).target.spec;

describe('RUN resources and outputs', () => {
  test('shmSize reads k/m/g as powers of 1024; ulimits, cgroupParent and noCacheFilter pass through', () => {
    expect(spec({ shmSize: '128m', ulimits: ['nofile=1024:2048'], cgroupParent: 'ci.slice', noCacheFilter: ['build'] })).toMatchObject({
      shmSize: 128 * 1024 * 1024,
      ulimits: ['nofile=1024:2048'],
      cgroupParent: 'ci.slice',
      noCache: ['build'],
    });
    expect(spec({ shmSize: '2g' }).shmSize).toBe(2 * 1024 ** 3);
    expect(spec({ shmSize: '4096' }).shmSize).toBe(4096);
    expect(spec({ noCache: true, noCacheFilter: ['build'] }).noCache).toBe(true);
    expect(() => spec({ shmSize: 'lots' })).toThrow('web:image: option "shmSize": is not a size like 128m, 1g or a number of bytes');
  });

  test('a cacheonly output has no destination to resolve', () => {
    expect(spec({ outputs: [{ type: 'cacheonly' }, { type: 'tar', dest: 'out/x.tar' }] }).outputs).toEqual([{ type: 'cacheonly' }, { type: 'tar', dest: '/ws/out/x.tar' }]);
  });
});

describe('attestations', () => {
  test('sbom: true asks for the default generator, { generator } names one, false or absent none', () => {
    expect(spec({ sbom: true }).sbom).toEqual({});
    expect(spec({ sbom: { generator: 'registry.example/scan:1' } }).sbom).toEqual({ generator: 'registry.example/scan:1' });
    expect(spec({ sbom: false }).sbom).toBeUndefined();
    expect(spec({}).sbom).toBeUndefined();
  });

  test('a bad sbom value is an option error naming project, target and field', () => {
    expect(() => spec({ sbom: 'yes' })).toThrow('web:image: option "sbom"');
    expect(() => spec({ sbom: { generator: 'a b' } })).toThrow('web:image: option "sbom.generator": is not an image reference');
    expect(() => spec({ sbom: { scanner: 'x' } })).toThrow('web:image: unknown option "sbom.scanner"');
  });
});
