import { describe, expect, test } from 'bun:test';
import { parseBuilderAddress, type BuildkitClient, type BuildResult } from '../../buildkit/index';
import type { ImageTarget } from '../image-target';
import { ImageLinks } from './image-links';
import { planLinks } from './plan-links';

/** A stand-in for a standalone buildkitd: the named-context probe's session and solve succeed. */
function fakeClient(address: string): BuildkitClient {
  return {
    address: parseBuilderAddress(address),
    openSession: async () => ({ id: 'probe', close: async () => {}, [Symbol.asyncDispose]: async () => {} }),
    solve: async () => ({ exporterResponse: {} }),
  } as unknown as BuildkitClient;
}

const target = (id: string, imageNames: string[], spec: Partial<ImageTarget['spec']> = {}): ImageTarget => ({
  id, dependsOn: [], contextPolicy: 'shared', imageNames,
  spec: { name: id.split(':')[0]!, contextDir: `/ws/${id}`, dockerfile: `/ws/${id}/Dockerfile`, ...spec },
});

const result = (names: string[], digest?: string): BuildResult => ({
  ...(digest ? { digest } : {}),
  imageNames: names,
  exporterResponse: { 'image.name': names.join(','), ...(digest ? { 'containerimage.digest': digest } : {}) },
  warnings: [], steps: { total: 1, cached: 0 }, transfer: { bytesSent: 0, filesSent: 0, diffCopyCalls: 0 } as never,
});

describe('image links on a builder without an image store', () => {
  const web = target('web:image', ['web:latest']);
  const dockerfiles = new Map([['web:image', 'FROM 127.0.0.1:5000/base\n']]);

  test('a base that pushes nothing: the dependant fails naming the base and suggesting push', async () => {
    const base = target('base:image', ['127.0.0.1:5000/base:latest']);
    const links = new ImageLinks(fakeClient('unix:///run/buildkit/buildkitd.sock'), [base, web], planLinks([base, web], dockerfiles), dockerfiles);
    expect(await links.specFor(base, base.spec)).toEqual(base.spec);
    const err = await links.specFor(web, web.spec).catch((e: Error) => e);
    expect(String((err as Error).message)).toContain('"127.0.0.1:5000/base" is built by base:image in this run, but the builder unix:///run/buildkit/buildkitd.sock is not a Docker engine');
    expect(String((err as Error).message)).toContain('set "push": true on base:image');
    expect(await links.cleanup()).toEqual({ removed: [], failed: [] });
  });

  test('a base that pushes: the dependant reads exactly the digest it pushed', async () => {
    const base = target('base:image', ['127.0.0.1:5000/base:latest'], { outputs: [{ type: 'image', names: ['127.0.0.1:5000/base:latest'], push: true }] });
    const links = new ImageLinks(fakeClient('tcp://127.0.0.1:1234'), [base, web], planLinks([base, web], dockerfiles), dockerfiles);
    const digest = `sha256:${'b'.repeat(64)}`;
    links.recordResult('base:image', result(['127.0.0.1:5000/base:latest'], digest));
    const spec = await links.specFor(web, web.spec);
    expect(spec.namedContexts).toEqual({ '127.0.0.1:5000/base': { kind: 'image', ref: `127.0.0.1:5000/base@${digest}` } });
    expect(links.report()).toEqual([{ from: 'web:image', to: 'base:image', via: 'pushed', reference: `127.0.0.1:5000/base@${digest}`, mechanism: 'named-context' }]);
  });
});

describe('image links on a Docker engine', () => {
  test("the base's result is exported under the run's link name too (merged into its load), and the name never reaches its metadata", async () => {
    const base = target('base:image', ['base:latest'], { outputs: [{ type: 'local', dest: '/out' }, { type: 'load', names: ['base:latest'] }] });
    const web = target('web:image', ['web:latest']);
    const dockerfiles = new Map([['web:image', 'FROM base\n']]);
    const links = new ImageLinks(fakeClient('docker:///var/run/docker.sock'), [base, web], planLinks([base, web], dockerfiles), dockerfiles, 'run1');
    const spec = await links.specFor(base, base.spec);
    expect(spec.outputs).toEqual([{ type: 'local', dest: '/out' }, { type: 'load', names: ['base:latest', 'nx-buildkit-link/base-image:run1'] }]);
    const bare = await links.specFor({ ...base, spec: { ...base.spec, outputs: [] } }, { ...base.spec, outputs: [] });
    expect(bare.outputs).toEqual([{ type: 'load', names: ['nx-buildkit-link/base-image:run1'] }]);
    const seen = links.recordResult('base:image', result(['base:latest', 'nx-buildkit-link/base-image:run1']));
    expect(seen.imageNames).toEqual(['base:latest']);
    expect(seen.exporterResponse['image.name']).toBe('base:latest');
  });

  test('a multi-platform base is not exported to the engine (its own build would fail); the dependant asks for push', async () => {
    const base = target('base:image', ['base:latest'], { platforms: ['linux/amd64', 'linux/arm64'] });
    const web = target('web:image', ['web:latest']);
    const dockerfiles = new Map([['web:image', 'FROM base\n']]);
    const links = new ImageLinks(fakeClient('docker:///var/run/docker.sock'), [base, web], planLinks([base, web], dockerfiles), dockerfiles, 'run1');
    expect(await links.specFor(base, base.spec)).toEqual(base.spec);
    const err = (await links.specFor(web, web.spec).catch((e: Error) => e)) as Error;
    expect(err.message).toContain('"base" is built by base:image in this run, but it builds for several platforms');
    expect(err.message).toContain('set "push": true on base:image');
  });
});
