import { expect, test } from 'bun:test';
import type { BuildkitClient } from '../buildkit/index';
import { withDefaultOutputs } from './default-outputs';
import type { ImageTarget } from './image-target';

const client = (kind: 'docker' | 'unix', store?: 'classic' | 'containerd') =>
  ({ address: kind === 'docker' ? { kind, endpoint: { socketPath: '/x.sock' }, display: 'docker:///x.sock' } : { kind, path: '/x.sock', display: 'unix:///x.sock' }, imageStore: async () => store }) as unknown as BuildkitClient;
const target = (id: string, spec: Partial<ImageTarget['spec']> = {}): ImageTarget => ({
  id, dependsOn: [], contextPolicy: 'shared', imageNames: [`${id}:latest`],
  spec: { name: id, contextDir: '/c', dockerfile: '/c/Dockerfile', ...spec },
});

test('on a Docker engine a target without outputs is loaded under its names; given outputs and cacheonly are kept', async () => {
  const [bare, given, cacheOnly] = await withDefaultOutputs([target('a'), target('b', { outputs: [{ type: 'tar', dest: '/t' }] }), target('c', { outputs: [{ type: 'cacheonly' }] })], client('docker', 'classic'));
  expect(bare!.spec.outputs).toEqual([{ type: 'load', names: ['a:latest'] }]);
  expect(given!.spec.outputs).toEqual([{ type: 'tar', dest: '/t' }]);
  expect(cacheOnly!.spec.outputs).toEqual([{ type: 'cacheonly' }]);
});

test('a multi-platform target is loaded by default only into a containerd store', async () => {
  const multi = target('m', { platforms: ['linux/amd64', 'linux/arm64'] });
  expect((await withDefaultOutputs([multi], client('docker', 'classic')))[0]!.spec.outputs).toBeUndefined();
  expect((await withDefaultOutputs([multi], client('docker', 'containerd')))[0]!.spec.outputs).toEqual([{ type: 'load', names: ['m:latest'] }]);
});

test('a standalone buildkitd gets no default output (the result stays in the build cache)', async () => {
  expect((await withDefaultOutputs([target('a')], client('unix')))[0]!.spec.outputs).toBeUndefined();
});
