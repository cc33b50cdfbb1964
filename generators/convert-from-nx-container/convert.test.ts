import { describe, expect, spyOn, test } from 'bun:test';
import { addProjectConfiguration, logger, readNxJson, readProjectConfiguration, updateNxJson, type TargetConfiguration } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import convertFromNxContainer from './convert';

async function convert(tree: ReturnType<typeof createTreeWithEmptyWorkspace>, options = {}): Promise<string[]> {
  const lines: string[] = [];
  const info = spyOn(logger, 'info').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  const warn = spyOn(logger, 'warn').mockImplementation((...args: unknown[]) => void lines.push(`WARN ${args.join(' ')}`));
  try {
    await convertFromNxContainer(tree, { skipFormat: true, ...options });
  } finally {
    info.mockRestore();
    warn.mockRestore();
  }
  return lines;
}

function workspaceWith(targets: Record<string, TargetConfiguration>, root = 'apps/api') {
  const tree = createTreeWithEmptyWorkspace();
  addProjectConfiguration(tree, 'api', { root, targets });
  return tree;
}

const nxContainer = (options: Record<string, unknown>, rest: Partial<TargetConfiguration> = {}): TargetConfiguration => ({ executor: '@nx-tools/nx-container:build', options, ...rest });

describe('convert-from-nx-container', () => {
  test('a typical target: tags, build-args, file, context, push, platforms, labels, secrets, cache, metadata-free', async () => {
    const tree = workspaceWith({
      container: nxContainer({
        context: 'apps/api',
        file: 'apps/api/Dockerfile',
        tags: ['registry.example/api:latest', 'registry.example/api:v1'],
        'build-args': ['NODE_ENV=production', 'A=b=c'],
        labels: ['team=core'],
        push: true,
        platforms: ['linux/amd64', 'linux/arm64'],
        'secret-files': ['npmrc=apps/api/.npmrc'],
        secrets: ['token=${GH_TOKEN}'],
        'cache-from': 'type=registry,ref=registry.example/api:cache',
        'cache-to': ['type=registry,ref=registry.example/api:cache,mode=max'],
        target: 'runtime',
        pull: true,
        'no-cache': false,
      }),
    });
    const lines = await convert(tree);
    const target = readProjectConfiguration(tree, 'api').targets!;
    expect(target['container']).toBeUndefined();
    expect(target['image']).toEqual({
      executor: 'nx-buildkit:image',
      options: {
        ociLabels: false,
        context: 'apps/api',
        dockerfile: 'apps/api/Dockerfile',
        tags: ['registry.example/api:latest', 'registry.example/api:v1'],
        buildArgs: { NODE_ENV: 'production', A: 'b=c' },
        labels: { team: 'core' },
        push: true,
        platforms: ['linux/amd64', 'linux/arm64'],
        secrets: [{ id: 'npmrc', file: 'apps/api/.npmrc' }, { id: 'token', env: 'GH_TOKEN' }],
        cacheFrom: ['type=registry,ref=registry.example/api:cache'],
        cacheTo: ['type=registry,ref=registry.example/api:cache,mode=max'],
        target: 'runtime',
        pull: true,
        noCache: false,
      },
    });
    expect(lines).toContain('nx-buildkit: converted api:container (@nx-tools/nx-container:build) → api:image (nx-buildkit:image)');
    expect(lines.filter((l) => l.startsWith('WARN'))).toEqual([]);
    // The plugin is registered, as nx add would.
    expect(readNxJson(tree)?.plugins).toContainEqual({ plugin: 'nx-buildkit', options: {} });
  });

  test("nx-container's defaults are written out where ours differ: the workspace root as context, <projectRoot>/Dockerfile", async () => {
    const tree = workspaceWith({ docker: nxContainer({ tags: ['api:dev'] }) });
    await convert(tree);
    expect(readProjectConfiguration(tree, 'api').targets!['image']!.options).toEqual({ context: '.', dockerfile: 'apps/api/Dockerfile', ociLabels: false, tags: ['api:dev'] });
  });

  test('metadata: images, tag rules, flavor and labels become imageName, tag templates, tagFlavor and labels; what has no equivalent is reported', async () => {
    const tree = workspaceWith({
      container: nxContainer({
        tags: ['ignored:1'],
        labels: ['ignored=1'],
        metadata: {
          images: ['registry.example/api', 'mirror.example/api'],
          tags: ['type=ref,event=branch', 'type=sha', 'type=semver,pattern={{major}}.{{minor}}', "type=raw,value={{date 'YYYYMMDD'}}", 'type=schedule', 'type=ref,event=pr', 'type=raw,value=stable,enable=${{ github.ref == \'main\' }}'],
          flavor: ['latest=true', 'prefix=api-'],
          labels: ['org.opencontainers.image.vendor=Acme'],
          'sep-tags': ',',
        },
      }),
    });
    const lines = await convert(tree);
    expect(readProjectConfiguration(tree, 'api').targets!['image']!.options).toEqual({
      context: '.',
      dockerfile: 'apps/api/Dockerfile',
      imageName: 'registry.example/api',
      tags: ['{{branch}}', 'sha-{{sha}}', '{{version:major.minor}}', '{{date:YYYYMMDD}}', 'mirror.example/api:{{branch}}', 'mirror.example/api:sha-{{sha}}', 'mirror.example/api:{{version:major.minor}}', 'mirror.example/api:{{date:YYYYMMDD}}'],
      tagFlavor: { latest: 'true', prefix: 'api-' },
      labels: { 'org.opencontainers.image.vendor': 'Acme' },
    });
    const warnings = lines.filter((l) => l.startsWith('WARN')).join('\n');
    expect(warnings).toContain('api:container: "tags" left out: nx-container ignores it when metadata.images is set');
    expect(warnings).toContain('api:container: "labels" left out: nx-container ignores it when metadata.images is set');
    expect(warnings).toContain('"metadata.tags: type=schedule" left out: type=schedule depends on the CI event');
    expect(warnings).toContain('"metadata.tags: type=ref,event=pr" left out');
    expect(warnings).toContain('"metadata.tags: type=raw,value=stable,enable=${{ github.ref == \'main\' }}" left out: enable=');
    const notes = lines.filter((l) => l.includes('note: ')).join('\n');
    expect(notes).toContain("{{version:major.minor}}: the version comes from the project's package.json or project.json, not from the git tag");
    expect(notes).toContain('"metadata.sep-tags" dropped');
  });

  test('every input without an equivalent is reported, never dropped silently; a literal secret value is not printed', async () => {
    const tree = workspaceWith({
      container: nxContainer({
        context: 'apps/api',
        engine: 'kaniko',
        builder: 'mybuilder',
        sbom: true,
        network: 'bridge',
        allow: ['network.host', 'device'],
        secrets: ['token=s3cr3t-value'],
        'build-args': ['FROM_ENV', 'VERSION=${APP_VERSION}'],
        outputs: ['type=registry', 'type=docker', 'type=local,dest=out/api', '-'],
        'build-contexts': ['base=docker-image://alpine:3.20', 'assets=apps/assets', 'remote=https://github.com/acme/x.git'],
        'add-hosts': ['db:10.0.0.2'],
        provenance: 'mode=max',
        quiet: true,
      }),
    });
    const lines = await convert(tree);
    const options = readProjectConfiguration(tree, 'api').targets!['image']!.options;
    expect(options).toMatchObject({
      push: true,
      load: true,
      outputs: ['type=local,dest=out/api'],
      allow: ['network.host'],
      secrets: [{ id: 'token', env: 'token' }],
      buildArgs: { VERSION: '${APP_VERSION}' },
      namedContexts: { base: 'docker-image://alpine:3.20', assets: 'local:apps/assets' },
      extraHosts: { db: '10.0.0.2' },
      provenance: 'max',
      progress: 'quiet',
    });
    const warnings = lines.filter((l) => l.startsWith('WARN'));
    for (const expected of [
      '"engine" left out: kaniko',
      '"builder" left out: "mybuilder" names a buildx builder instance',
      '"sbom" left out: nx-buildkit has no such option',
      '"network" left out: "bridge"',
      '"allow: device" left out',
      '"secrets: token=…" holds the secret\'s value itself',
      '"build-args: FROM_ENV" left out',
      '"buildArgs.VERSION" holds ${APP_VERSION}, which nx-container replaced from the environment',
      '"outputs: -" left out',
      '"build-contexts: remote=https://github.com/acme/x.git" left out',
    ]) {
      expect(warnings.some((w) => w.includes(expected)), `${expected}\n${warnings.join('\n')}`).toBe(true);
    }
    expect(lines.join('\n')).not.toContain('s3cr3t-value');
    expect(JSON.stringify(readProjectConfiguration(tree, 'api'))).not.toContain('s3cr3t-value');
  });

  test('configurations are converted too; what is invalid after conversion is said at once', async () => {
    const tree = workspaceWith({
      container: nxContainer({ context: 'apps/api', tags: ['api:dev'] }, { configurations: { production: { tags: ['api:prod'], push: true, 'cache-to': ['type=registry,ref=r/api:c,mode'] }, broken: { platforms: ['Linux/AMD64'] } } }),
    });
    const lines = await convert(tree);
    const target = readProjectConfiguration(tree, 'api').targets!['image']!;
    expect(target.configurations).toEqual({ production: { tags: ['api:prod'], push: true, cacheTo: [] }, broken: { platforms: ['Linux/AMD64'] } });
    expect(lines).toContain('WARN nx-buildkit:   api:container: configuration production: "cache-to: type=registry,ref=r/api:c,mode" left out: field "mode" is not key=value');
    expect(lines).toContain('WARN nx-buildkit:   api:container: invalid after conversion, fix by hand: api:image:broken: option "platforms.0": is not a platform like linux/amd64');
  });

  test('dependsOn, inputs and the like are kept; dependsOn naming the old target follows it, here and in targetDefaults', async () => {
    const tree = createTreeWithEmptyWorkspace();
    addProjectConfiguration(tree, 'api', {
      root: 'apps/api',
      targets: { container: nxContainer({ context: 'apps/api' }, { dependsOn: ['build', '^container'], inputs: ['default'], outputs: ['{workspaceRoot}/x'] }), deploy: { command: 'echo', dependsOn: ['container'] } },
    });
    addProjectConfiguration(tree, 'web', { root: 'apps/web', targets: { container: { executor: '@nx/docker:build', options: { context: 'apps/web' } } } });
    const nxJson = readNxJson(tree)!;
    nxJson.targetDefaults = { release: { dependsOn: [{ target: 'container', projects: 'self' }] }, '@nx-tools/nx-container:build': { options: { push: true } } };
    updateNxJson(tree, nxJson);
    const lines = await convert(tree);
    const api = readProjectConfiguration(tree, 'api').targets!;
    expect(api['image']).toEqual({ executor: 'nx-buildkit:image', options: { context: 'apps/api', dockerfile: 'apps/api/Dockerfile', ociLabels: false }, dependsOn: ['build', '^image'], inputs: ['default'] });
    expect(api['deploy']!.dependsOn).toEqual(['image']);
    expect(readProjectConfiguration(tree, 'web').targets!['image']!.executor).toBe('nx-buildkit:image');
    expect(readNxJson(tree)!.targetDefaults!['release']).toEqual({ dependsOn: [{ target: 'image', projects: 'self' }] });
    expect(lines).toContain('WARN nx-buildkit: nx.json targetDefaults "@nx-tools/nx-container:build" not converted: move its options into the plugin\'s options or an "image" entry by hand');
    expect(lines.some((l) => l.includes('"outputs" dropped'))).toBe(true);
  });

  test("the plugin's own target name is used, and a project that already has that target is left alone, saying so", async () => {
    const tree = workspaceWith({ container: nxContainer({ context: 'apps/api' }), docker: { command: 'docker build .' } });
    const nxJson = readNxJson(tree)!;
    nxJson.plugins = [{ plugin: 'nx-buildkit', options: { targetName: 'docker' } }];
    updateNxJson(tree, nxJson);
    const lines = await convert(tree);
    expect(readProjectConfiguration(tree, 'api').targets!['container']!.executor).toBe('@nx-tools/nx-container:build');
    expect(lines).toContain('WARN nx-buildkit: api:container not converted: the project already has a "docker" target');
  });

  test('--project converts only that project', async () => {
    const tree = workspaceWith({ container: nxContainer({}) });
    addProjectConfiguration(tree, 'web', { root: 'apps/web', targets: { container: nxContainer({}) } });
    await convert(tree, { project: 'web' });
    expect(readProjectConfiguration(tree, 'api').targets!['container']).toBeDefined();
    expect(readProjectConfiguration(tree, 'web').targets!['image']).toBeDefined();
  });
});
