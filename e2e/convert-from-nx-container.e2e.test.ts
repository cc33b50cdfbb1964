import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, buildImage, type BuildSpec } from '../plugin/buildkit/index';
import { e2eEnvironment, hasImageExporters, type E2eDaemon } from './support/daemons';
import { registryRequest, registryTags, removeImagesUnder } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

// A workspace that builds with @nx-tools/nx-container, converted by
// `nx g nx-buildkit:convert-from-nx-container` through the real Nx CLI
// (under Node), then built with `nx run-many -t image` and pushed to the
// test registry: the images' configs (env, labels) and files are compared
// with the same Dockerfiles built directly by the BuildKit client with the
// options nx-container would have passed to buildx. On a containerd-store
// engine (BuildKit pushes itself, and the engine runs the images to read
// their files).

const timeout = 180_000;
const env = e2eEnvironment();
const runId = randomBytes(4).toString('hex');
const daemon = env.daemons.find((d) => d.kind === 'docker' && hasImageExporters(d));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const socketOf = (d: E2eDaemon) => d.address.replace(/^docker:\/\//, '');

interface ImageConfig {
  config: { Env?: string[]; Labels?: Record<string, string> };
}

/** The config of the linux/amd64 image the registry serves for `repository:tag` (an index is followed to that manifest). */
async function registryConfig(registry: string, repository: string, tag: string): Promise<ImageConfig> {
  const accept = ['application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json', 'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json'].join(', ');
  const get = async (p: string) => {
    const answer = await registryRequest(registry, 'GET', p, { accept });
    if (answer.status !== 200) throw new Error(`GET ${p}: HTTP ${answer.status}`);
    return JSON.parse(answer.body) as { manifests?: Array<{ digest: string; platform?: { os: string; architecture: string } }>; config?: { digest: string } };
  };
  let manifest = await get(`/v2/${repository}/manifests/${tag}`);
  if (manifest.manifests) {
    const amd64 = manifest.manifests.find((m) => m.platform?.os === 'linux' && m.platform.architecture === 'amd64')!;
    manifest = await get(`/v2/${repository}/manifests/${amd64.digest}`);
  }
  return (await get(`/v2/${repository}/blobs/${manifest.config!.digest}`)) as unknown as ImageConfig;
}

describe.skipIf(!daemon || !env.registry)(`convert-from-nx-container, then run-many -t image (${daemon?.name ?? 'skipped: needs a containerd-store Docker engine'}${env.registry ? '' : ', skipped: needs the registry of e2e/daemons/up.sh'})`, () => {
  const registry = env.registry!;
  const prefix = `nxbk-e2e-convert-${runId}`;
  const token = `token-${randomBytes(12).toString('hex')}`;
  const npmrc = `//registry.example/:_authToken=${randomBytes(12).toString('hex')}\n`;
  const tokenVariable = 'NXBK_E2E_CONVERT_TOKEN';
  let ws: NxWorkspace;
  let convertOut = '';
  let convertStatus: number | null = null;
  let runOut = '';
  let runStatus: number | null = null;
  let head = '';

  const dockerfiles = {
    base: [`FROM ${registry}/nxbk-base:latest`, 'ARG GREETING', `ENV GREETING=\${GREETING} STAMP=${runId}`, 'COPY hello.txt /hello.txt',
      'RUN --mount=type=secret,id=npmrc,required=true sha256sum /run/secrets/npmrc | cut -d" " -f1 > /npmrc.sha',
      'RUN --mount=type=secret,id=token,required=true sha256sum /run/secrets/token | cut -d" " -f1 > /token.sha', 'LABEL from.dockerfile=base', ''].join('\n'),
    api: [`FROM ${registry}/nxbk-base:latest`, 'ARG PORT', `ENV PORT=\${PORT} STAMP=${runId}`, 'COPY main.txt /app/main.txt', ''].join('\n'),
  };
  const nxContainer = {
    base: {
      context: 'libs/base',
      file: 'libs/base/Dockerfile',
      tags: [`${registry}/${prefix}/base:latest`, `${registry}/${prefix}/base:v1`],
      'build-args': ['GREETING=hello from base'],
      labels: ['team=core'],
      push: true,
      platforms: ['linux/amd64'],
      'secret-files': ['npmrc=libs/base/npmrc.txt'],
      secrets: [`token=\${${tokenVariable}}`],
      'cache-from': [`type=registry,ref=${registry}/${prefix}/base:cache,registry.insecure=true`],
      'cache-to': [`type=registry,ref=${registry}/${prefix}/base:cache,mode=max,registry.insecure=true`],
    },
    api: {
      context: 'apps/api',
      push: true,
      'build-args': ['PORT=8080'],
      metadata: {
        images: [`${registry}/${prefix}/api`],
        tags: ['type=sha', 'type=raw,value=stable', 'type=ref,event=pr'],
        flavor: ['latest=false'],
        labels: ['org.example.tier=backend'],
      },
    },
  };

  beforeAll(() => {
    ws = createFixtureWorkspace(
      {
        'libs/base/project.json': JSON.stringify({ name: 'base', targets: { container: { executor: '@nx-tools/nx-container:build', options: nxContainer.base } } }),
        'libs/base/Dockerfile': dockerfiles.base,
        'libs/base/hello.txt': `hello ${runId}\n`,
        'libs/base/npmrc.txt': npmrc,
        'apps/api/project.json': JSON.stringify({ name: 'api', targets: { container: { executor: '@nx-tools/nx-container:build', options: nxContainer.api }, deploy: { command: 'true', dependsOn: ['container'] } } }),
        'apps/api/Dockerfile': dockerfiles.api,
        'apps/api/main.txt': `main ${runId}\n`,
      },
      // What the test machine needs whatever the converter writes: the daemon, no network, plain HTTP to the test registry.
      { options: { builder: daemon!.address, network: 'none', insecureRegistry: true, progress: 'plain' } },
      { [tokenVariable]: token },
    );
    const converted = ws.nx('node', ['g', 'nx-buildkit:convert-from-nx-container', '--no-interactive']);
    convertOut = converted.stdout + converted.stderr;
    convertStatus = converted.status;
    ws.git('add', '-A');
    ws.git('commit', '-qm', 'convert');
    head = ws.git('rev-parse', '--short=7', 'HEAD').trim();
    const run = ws.nx('node', ['run-many', '-t', 'image', '--output-style=static']);
    runOut = run.stdout + run.stderr;
    runStatus = run.status;
  }, timeout);

  afterAll(async () => {
    await removeImagesUnder(socketOf(daemon!), `${registry}/${prefix}`);
    ws?.[Symbol.dispose]();
  });

  test('the converter rewrites both targets, says what it left out, and keeps the dependsOn pointing at the image target', () => {
    expect(convertStatus, convertOut).toBe(0);
    expect(convertOut).toContain('converted base:container (@nx-tools/nx-container:build) → base:image (nx-buildkit:image)');
    expect(convertOut).toContain('converted api:container (@nx-tools/nx-container:build) → api:image (nx-buildkit:image)');
    expect(convertOut).toContain('api:container: "metadata.tags: type=ref,event=pr" left out');
    expect(convertOut).not.toContain(token);
    const api = JSON.parse(fs.readFileSync(path.join(ws.dir, 'apps/api/project.json'), 'utf8'));
    expect(api.targets.container).toBeUndefined();
    expect(api.targets.image.executor).toBe('nx-buildkit:image');
    expect(api.targets.deploy.dependsOn).toEqual(['image']);
  });

  test('run-many -t image builds and pushes the converted targets, with the secrets, and exports the registry cache', async () => {
    expect(runStatus, runOut).toBe(0);
    expect(runOut).not.toContain(token);
    expect(await registryTags(registry, `${prefix}/base`)).toEqual(['cache', 'latest', 'v1']);
    expect(await registryTags(registry, `${prefix}/api`)).toEqual([`sha-${head}`, 'stable']);
  });

  test('the images match the same Dockerfiles built directly: env, labels and files', async () => {
    expect(runStatus, runOut).toBe(0);
    await using client = await BuildkitClient.connect({ address: daemon!.address });
    const direct = async (project: 'base' | 'api', spec: Partial<BuildSpec>) => {
      const contextDir = path.join(ws.dir, project === 'base' ? 'libs/base' : 'apps/api');
      const name = `${registry}/${prefix}/direct-${project}:latest`;
      await buildImage(client, { name: `direct-${project}`, contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false, outputs: [{ type: 'image', names: [name], push: true, insecure: true }], ...spec });
      return registryConfig(registry, `${prefix}/direct-${project}`, 'latest');
    };
    // What nx-container hands buildx for these options.
    process.env[tokenVariable] = token;
    const directBase = await direct('base', {
      buildArgs: { GREETING: 'hello from base' },
      labels: { team: 'core' },
      platforms: ['linux/amd64'],
      secrets: [{ id: 'npmrc', file: path.join(ws.dir, 'libs/base/npmrc.txt') }, { id: 'token', env: tokenVariable }],
    });
    delete process.env[tokenVariable];
    const directApi = await direct('api', { buildArgs: { PORT: '8080' }, labels: { 'org.example.tier': 'backend' } });
    const base = await registryConfig(registry, `${prefix}/base`, 'v1');
    const api = await registryConfig(registry, `${prefix}/api`, 'stable');

    expect(base.config.Env).toEqual(directBase.config.Env!);
    expect(base.config.Env).toContain('GREETING=hello from base');
    // No metadata: nx-container adds no labels of its own, and neither does the converted target.
    expect(base.config.Labels).toEqual(directBase.config.Labels!);
    expect(base.config.Labels).toMatchObject({ team: 'core', 'from.dockerfile': 'base' });

    expect(api.config.Env).toEqual(directApi.config.Env!);
    // metadata.images: the OCI labels (metadata-action's, here ours) come on top of the user's.
    const apiLabels = api.config.Labels ?? {};
    expect(apiLabels).toMatchObject(directApi.config.Labels!);
    expect(Object.keys(apiLabels).filter((k) => !(k in directApi.config.Labels!)).every((k) => k.startsWith('org.opencontainers.image.'))).toBe(true);
    expect(apiLabels['org.opencontainers.image.revision']).toStartWith(head);

    const files = (image: string, paths: string[]) => {
      const docker = (...args: string[]) => spawnSync('docker', ['-H', `unix://${socketOf(daemon!)}`, ...args], { encoding: 'utf8', timeout: 60_000 });
      const pulled = docker('pull', '-q', image);
      if (pulled.status !== 0) throw new Error(`docker pull ${image}: ${pulled.stderr}`);
      const r = docker('run', '--rm', '--network', 'none', image, 'cat', ...paths);
      if (r.status !== 0) throw new Error(`docker run ${image}: ${r.stderr}`);
      return r.stdout;
    };
    const baseFiles = ['/hello.txt', '/npmrc.sha', '/token.sha'];
    expect(files(`${registry}/${prefix}/base:v1`, baseFiles)).toBe(`hello ${runId}\n${sha256(npmrc)}\n${sha256(token)}\n`);
    expect(files(`${registry}/${prefix}/direct-base:latest`, baseFiles)).toBe(files(`${registry}/${prefix}/base:v1`, baseFiles));
    expect(files(`${registry}/${prefix}/api:stable`, ['/app/main.txt'])).toBe(`main ${runId}\n`);
    expect(files(`${registry}/${prefix}/direct-api:latest`, ['/app/main.txt'])).toBe(`main ${runId}\n`);
  }, timeout);
});
