import { describe, expect, test } from 'bun:test';
import { planOutputs } from './output-plan';

const classic = { kind: 'docker', imageStore: 'classic' } as const;
const containerd = { kind: 'docker', imageStore: 'containerd' } as const;

describe('planOutputs', () => {
  test('a push on a classic-store engine stores the image with the moby exporter and leaves the push to the engine', () => {
    const plan = planOutputs([{ type: 'image', names: ['r:5000/a:1', 'r:5000/a:latest'], push: true }], { builder: classic });
    expect(plan.exporters).toEqual([{ type: 'moby', attrs: { name: 'r:5000/a:1,r:5000/a:latest' } }]);
    expect(plan.enginePushes).toEqual(['r:5000/a:1', 'r:5000/a:latest']);
  });

  test('push and load on a classic store share one moby exporter (BuildKit before 0.13 runs one exporter)', () => {
    const plan = planOutputs(
      [
        { type: 'image', names: ['r/a:1'], push: true },
        { type: 'load', names: ['r/a:1', 'link:x'] },
      ],
      { builder: classic },
    );
    expect(plan.exporters).toEqual([{ type: 'moby', attrs: { name: 'r/a:1,link:x' } }]);
    expect(plan.enginePushes).toEqual(['r/a:1']);
  });

  test('an image the moby exporter stores in a classic store is known by its image ID, the config digest; elsewhere not', () => {
    expect(planOutputs([{ type: 'load', names: ['a:1'] }], { builder: classic }).imageIdIsConfigDigest).toBe(true);
    expect(planOutputs([{ type: 'load', names: ['a:1'] }], { builder: containerd }).imageIdIsConfigDigest).toBeUndefined();
    expect(planOutputs([{ type: 'image', names: ['r/a:1'], push: true }], { builder: { kind: 'buildkitd' } }).imageIdIsConfigDigest).toBeUndefined();
    expect(planOutputs([], { builder: classic }).imageIdIsConfigDigest).toBeUndefined();
  });

  test('a multi-platform push on a classic store is refused, saying what would work', () => {
    expect(() => planOutputs([{ type: 'image', names: ['r/a:1'], push: true }], { builder: classic, platforms: ['linux/amd64', 'linux/arm64'] })).toThrow(
      /cannot push a multi-platform image \(linux\/amd64, linux\/arm64\).*classic image store.*containerd image store, or a standalone buildkitd/,
    );
  });

  test('containerd-store engines and buildkitd push with the image exporter', () => {
    for (const builder of [containerd, { kind: 'buildkitd' } as const]) {
      const plan = planOutputs([{ type: 'image', names: ['r/a:1'], push: true, insecure: true }], { builder });
      expect(plan.exporters).toEqual([{ type: 'image', attrs: { name: 'r/a:1', push: 'true', 'registry.insecure': 'true' } }]);
      expect(plan.enginePushes).toEqual([]);
    }
  });

  test('load on a buildkitd streams the docker exporter, or oci for a multi-platform image into a containerd store', () => {
    const single = planOutputs([{ type: 'load', names: ['a:1'] }], { builder: { kind: 'buildkitd' }, loadEngineStore: 'classic' });
    expect(single.exporters).toEqual([{ type: 'docker', attrs: { name: 'a:1' } }]);
    expect(single.engineLoad).toEqual({ exporterIndex: 0, format: 'docker' });
    const multi = planOutputs([{ type: 'tar', dest: '/x.tar' }, { type: 'load', names: ['a:1'] }], {
      builder: { kind: 'buildkitd' },
      platforms: ['linux/amd64', 'linux/arm64'],
      loadEngineStore: 'containerd',
    });
    expect(multi.exporters[1]).toEqual({ type: 'oci', attrs: { name: 'a:1' } });
    expect(multi.engineLoad).toEqual({ exporterIndex: 1, format: 'oci' });
    expect(() =>
      planOutputs([{ type: 'load', names: ['a:1'] }], { builder: { kind: 'buildkitd' }, platforms: ['linux/amd64', 'linux/arm64'], loadEngineStore: 'classic' }),
    ).toThrow(/cannot load a multi-platform image .* classic image store/);
  });

  test('no outputs: no exporter (the result stays in the build cache)', () => {
    expect(planOutputs([], { builder: { kind: 'buildkitd' } }).exporters).toEqual([]);
  });
});

test('annotations become exporter attributes by level; the classic store refuses them', () => {
  const annotations = [
    { level: 'manifest', key: 'a.b', value: '1' },
    { level: 'index', key: 'c', value: '2' },
    { level: 'manifest-descriptor', key: 'd', value: '3' },
  ] as const;
  const plan = planOutputs([{ type: 'image', names: ['r/a:1'], push: true }], { builder: { kind: 'buildkitd' }, annotations });
  expect(plan.exporters[0]!.attrs).toMatchObject({ 'annotation.a.b': '1', 'annotation-index.c': '2', 'annotation-manifest-descriptor.d': '3' });
  expect(() => planOutputs([{ type: 'image', names: ['r/a:1'], push: true }], { builder: classic, annotations })).toThrow(/annotations cannot be written by a Docker engine with the classic image store/);
});
