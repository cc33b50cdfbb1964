import { describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import path from 'node:path';
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

  test("a base that pushes nothing: also exported as an OCI layout in the run's own directory, read by the dependant as an oci-layout:// named context, removed at the end", async () => {
    const base = target('base:image', ['127.0.0.1:5000/base:latest']);
    const links = new ImageLinks(fakeClient('unix:///run/buildkit/buildkitd.sock'), [base, web], planLinks([base, web], dockerfiles), dockerfiles, 'run1');
    const spec = await links.specFor(base, base.spec);
    const layout = spec.outputs?.[0];
    expect(spec.outputs).toHaveLength(1);
    expect(layout).toMatchObject({ type: 'oci', tar: false, names: ['nx-buildkit-link/base-image:run1'] });
    const dir = (layout as { dest: string }).dest;
    expect(path.basename(path.dirname(dir))).toStartWith('nx-buildkit-links-');
    // Before the base's build wrote its layout, the dependant is refused naming the base.
    const early = await links.specFor(web, web.spec).catch((e: Error) => e);
    expect(String((early as Error).message)).toContain(`"127.0.0.1:5000/base" is built by base:image in this run, but its result is not in the run's OCI layout ${dir}`);
    // What the oci exporter writes: the run id as the manifest's tag.
    fs.mkdirSync(dir, { recursive: true });
    const digest = `sha256:${'c'.repeat(64)}`;
    fs.writeFileSync(path.join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: 'application/vnd.oci.image.manifest.v1+json', digest, size: 1, annotations: { 'org.opencontainers.image.ref.name': 'run1' } }] }));
    const dependant = await links.specFor(web, web.spec);
    expect(dependant.namedContexts).toEqual({ '127.0.0.1:5000/base': { kind: 'oci-layout', dir, tag: 'run1' } });
    expect(links.report()).toEqual([{ from: 'web:image', to: 'base:image', via: 'layout', reference: `oci-layout://${dir}:run1`, mechanism: 'named-context' }]);
    expect(await links.cleanup()).toEqual({ removed: [path.dirname(dir)], failed: [] });
    expect(fs.existsSync(path.dirname(dir))).toBe(false);
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
