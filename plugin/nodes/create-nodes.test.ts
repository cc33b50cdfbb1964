import { afterEach, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CreateNodesContext, CreateNodesResult, TargetConfiguration } from '@nx/devkit';
import { createNodes, dockerfileDiscoveryGlob } from './create-nodes';
import { minimatch } from 'minimatch';

const workspaces: string[] = [];
afterEach(() => {
  for (const dir of workspaces.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A temporary workspace holding `files` (path → text). */
function workspace(files: Record<string, string>): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-nodes-'));
  workspaces.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  return root;
}

/** Run createNodes the way Nx does: with the workspace files its glob matches. */
async function infer(root: string, options?: unknown, nxJsonConfiguration: CreateNodesContext['nxJsonConfiguration'] = {}): Promise<Record<string, CreateNodesResult['projects']>> {
  const files = (fs.readdirSync(root, { recursive: true }) as string[])
    .map((f) => f.split(path.sep).join('/'))
    .filter((f) => minimatch(f, dockerfileDiscoveryGlob, { dot: true }))
    .sort();
  const context: CreateNodesContext = { nxJsonConfiguration, workspaceRoot: root };
  const results = await createNodes[1](files, options as never, context);
  return Object.fromEntries(results.map(([file, r]) => [file, r.projects]));
}

/** The projects inferred, by root. */
async function projects(root: string, options?: unknown, nxJson: CreateNodesContext['nxJsonConfiguration'] = {}) {
  const byFile = await infer(root, options, nxJson);
  return Object.assign({}, ...Object.values(byFile)) as Record<string, { name: string; targets: Record<string, TargetConfiguration> }>;
}

/** The git facts the default OCI labels come from (checkout-inputs.ts): one command, the same for every such target. */
const labelFacts = "git log -1 --format=%H%n%cI HEAD 2>/dev/null; git tag --points-at HEAD 2>/dev/null; git remote get-url origin 2>/dev/null | sed 's#//[^/@]*@#//#'; true";

describe('createNodes', () => {
  test('infers an image target per Dockerfile with dependencies on the images it uses', async () => {
    const root = workspace({
      'images/base/project.json': '{ "name": "base" }',
      'images/base/Dockerfile': 'FROM nxbk-base:latest\n',
      'images/app-a/project.json': '// comment allowed\n{ "name": "app-a", }',
      'images/app-a/Dockerfile': 'FROM base\nCOPY . /app\n',
      'images/app-a/.dockerignore': 'node_modules\n*.md\nDockerfile\n',
      'images/app-b/project.json': JSON.stringify({ name: 'app-b', targets: { image: { options: { imageName: '127.0.0.1:5000/team/app-b' } } } }),
      'images/app-b/Dockerfile': 'FROM --platform=$BUILDPLATFORM docker.io/library/base:latest AS build\nFROM build\n',
      'images/app-c/Dockerfile': 'FROM alpine\nCOPY --from=127.0.0.1:5000/team/app-b /x /x\nRUN --mount=type=bind,from=web,target=/w true\n',
      'web/package.json': '{ "name": "@org/web", "nx": { "name": "web" } }',
      'web/Dockerfile': 'FROM base:latest\n',
      'libs/lib/project.json': '{ "name": "lib" }',
      'libs/lib/src/index.ts': '',
      '.devcontainer/Dockerfile': 'FROM base\n',
      'tools/Dockerfile.dev': 'FROM base\n',
    });
    const p = await projects(root);
    expect(Object.keys(p).sort()).toEqual(['images/app-a', 'images/app-b', 'images/app-c', 'images/base', 'web']);
    expect(Object.fromEntries(Object.entries(p).map(([r, v]) => [r, v.name]))).toEqual({
      'images/app-a': 'app-a',
      'images/app-b': 'app-b',
      'images/app-c': 'app-c',
      'images/base': 'base',
      web: 'web',
    });
    expect(p['images/app-a']!.targets.image).toEqual({
      executor: 'nx-buildkit:image',
      cache: true,
      options: { context: 'images/app-a', dockerfile: 'images/app-a/Dockerfile' },
      inputs: [
        '{projectRoot}/**/*',
        '{projectRoot}/Dockerfile',
        '!{projectRoot}/node_modules',
        '!{projectRoot}/node_modules/**',
        '!{projectRoot}/*.md',
        '!{projectRoot}/*.md/**',
        { dependentTasksOutputFiles: '**/metadata.json' },
        { env: 'SOURCE_DATE_EPOCH' },
        { env: 'BUILDKIT_HOST' },
        { env: 'DOCKER_HOST' },
        { env: 'DOCKER_CONTEXT' },
        { runtime: labelFacts },
        { runtime: expect.stringMatching(/ node \S+\/dist\/check-image\.cjs dist\/images\/images\/app-a\/metadata\.json; fi;; esac$/) },
      ],
      outputs: ['{workspaceRoot}/dist/images/{projectRoot}/metadata.json', '{workspaceRoot}/dist/images/{projectRoot}/build-report.json'],
      dependsOn: [{ projects: ['base'], target: 'image' }],
      metadata: { technologies: ['docker'], description: 'Build the image from Dockerfile with BuildKit' },
    });
    expect(p['images/base']!.targets.image!.dependsOn).toBeUndefined();
    expect(p['images/base']!.targets.image!.inputs).toEqual(['{projectRoot}/**/*', '{projectRoot}/Dockerfile', { env: 'SOURCE_DATE_EPOCH' }, { env: 'BUILDKIT_HOST' }, { env: 'DOCKER_HOST' }, { env: 'DOCKER_CONTEXT' }, { runtime: labelFacts }, { runtime: expect.any(String) }]);
    expect(p['images/app-b']!.targets.image!.dependsOn).toEqual([{ projects: ['base'], target: 'image' }]);
    expect(p['images/app-c']!.targets.image!.dependsOn).toEqual([{ projects: ['app-b', 'web'], target: 'image' }]);
    expect(p['web']!.targets.image!.dependsOn).toEqual([{ projects: ['base'], target: 'image' }]);
  });

  test('plugin options: target name, patterns and option defaults', async () => {
    const root = workspace({
      'svc/api/api.Dockerfile': 'FROM worker\n',
      'svc/worker/Dockerfile': 'FROM alpine\n',
      'svc/worker/worker.Dockerfile': 'FROM alpine\n',
      'svc/worker/project.json': JSON.stringify({ name: 'worker', targets: { container: { options: { tags: ['1.0', 'latest'] } } } }),
    });
    const p = await projects(root, { targetName: 'container', dockerfilePatterns: ['svc/api/*.Dockerfile', 'svc/worker/Dockerfile'], options: { push: true } });
    expect(Object.keys(p).sort()).toEqual(['svc/api', 'svc/worker']);
    const api = p['svc/api']!.targets.container!;
    expect(api.options).toEqual({ push: true, context: 'svc/api', dockerfile: 'svc/api/api.Dockerfile' });
    expect(api.inputs).toContain('{projectRoot}/api.Dockerfile');
    expect(api.dependsOn).toEqual([{ projects: ['worker'], target: 'container' }]);
    expect(p['svc/api']!.targets.image).toBeUndefined();
  });

  test('tags decide which references name a project\'s image', async () => {
    const root = workspace({
      'base/project.json': JSON.stringify({ name: 'base', targets: { image: { options: { tags: ['1.0'] } } } }),
      'base/Dockerfile': 'FROM alpine\n',
      'pinned/Dockerfile': 'FROM base:1.0\n',
      'latest/Dockerfile': 'FROM base\n',
      'digest/Dockerfile': 'FROM base@sha256:0123\n',
    });
    const p = await projects(root);
    expect(p['pinned']!.targets.image!.dependsOn).toEqual([{ projects: ['base'], target: 'image' }]);
    expect(p['latest']!.targets.image!.dependsOn).toBeUndefined();
    expect(p['digest']!.targets.image!.dependsOn).toBeUndefined();
  });

  test('a named context replacing the base image is no dependency; nor is the project\'s own image', async () => {
    const root = workspace({
      'base/Dockerfile': 'FROM alpine\n',
      'app/project.json': JSON.stringify({ name: 'app', targets: { image: { options: { namedContexts: { base: 'docker-image://alpine' } } } } }),
      'app/Dockerfile': 'FROM base\nCOPY --from=app /cache /cache\n',
    });
    const p = await projects(root);
    expect(p['app']!.targets.image!.dependsOn).toBeUndefined();
  });

  test('a named context naming another project (bake\'s target:<project>, or docker-image:// of its image) is a dependency', async () => {
    const root = workspace({
      'base/Dockerfile': 'FROM alpine\n',
      'tools/Dockerfile': 'FROM alpine\n',
      'app/project.json': JSON.stringify({ name: 'app', targets: { image: { options: { namedContexts: { stage: 'target:base', t: 'docker-image://tools:latest', x: 'target:nosuch' } } } } }),
      'app/Dockerfile': 'FROM stage\nCOPY --from=t /bin/tool /bin/tool\n',
    });
    const p = await projects(root);
    expect(p['app']!.targets.image!.dependsOn).toEqual([{ projects: ['base', 'tools'], target: 'image' }]);
  });

  test('a Dockerfile-specific ignore file wins over .dockerignore', async () => {
    const root = workspace({
      'app/Dockerfile': 'FROM alpine\n',
      'app/Dockerfile.dockerignore': 'specific\n',
      'app/.dockerignore': 'general\n',
    });
    const inputs = (await projects(root))['app']!.targets.image!.inputs;
    expect(inputs).toContain('!{projectRoot}/specific');
    expect(inputs).not.toContain('!{projectRoot}/general');
  });

  test('an ignore file that is a directory is passed over, as BuildKit does', async () => {
    const root = workspace({
      'app/Dockerfile': 'FROM alpine\n',
      'app/Dockerfile.dockerignore/readme': 'not an ignore file\n',
      'app/.dockerignore': 'general\n',
      'web/Dockerfile': 'FROM alpine\n',
      'web/.dockerignore/x': 'nothing\n',
    });
    const p = await projects(root);
    expect(p['app']!.targets.image!.inputs).toContain('!{projectRoot}/general');
    expect((p['web']!.targets.image!.inputs as unknown[]).filter((i) => typeof i === 'string' && i.startsWith('!'))).toEqual([]);
  });

  test('the workspace root can be an image project', async () => {
    const root = workspace({ 'package.json': '{ "name": "monorepo" }', Dockerfile: 'FROM alpine\n' });
    const p = await projects(root);
    expect(p['.']!.name).toBe('monorepo');
    expect(p['.']!.targets.image!.options).toEqual({ context: '.', dockerfile: 'Dockerfile' });
  });

  test('two Dockerfiles for one project are refused, naming both', async () => {
    const root = workspace({ 'app/Dockerfile': 'FROM a\n', 'app/dev.Dockerfile': 'FROM a\n' });
    // Nx's createNodesFromFiles gathers per-file errors into an AggregateCreateNodesError, shown per file.
    const err = (await infer(root, { dockerfilePatterns: ['**/Dockerfile', '**/*.Dockerfile'] }).catch((e: unknown) => e)) as { errors: [string, Error][] };
    expect(err.errors.map(([file]) => file)).toEqual(['app/Dockerfile']);
    expect(err.errors[0]![1].message).toContain('nx-buildkit: app/Dockerfile, app/dev.Dockerfile all match dockerfilePatterns in one project (app)');
  });

  test('the registry check reads the metadata file and Docker config the executor will use, through the installed package', async () => {
    const root = workspace({
      'node_modules/nx-buildkit/dist/check-image.cjs': '',
      'app/Dockerfile': 'FROM a\n',
      'app/project.json': JSON.stringify({ name: 'app', targets: { image: { options: { metadataFile: 'out/app meta.json' } } } }),
      'web/Dockerfile': 'FROM a\n',
    });
    const p = await projects(root, { options: { dockerConfig: '.docker' } });
    const runtime = (project: string) => (p[project]!.targets.image!.inputs as Array<{ runtime?: string }>).findLast((i) => i.runtime)?.runtime;
    expect(runtime('app')).toEndWith(' "out/app meta.json"; else node node_modules/nx-buildkit/dist/check-image.cjs --docker-config .docker "out/app meta.json"; fi;; esac');
    expect(runtime('app')).toContain('then bun node_modules/nx-buildkit/dist/check-image.cjs --docker-config .docker "out/app meta.json";');
    expect(runtime('web')).toEndWith(' dist/images/web/metadata.json; else node node_modules/nx-buildkit/dist/check-image.cjs --docker-config .docker dist/images/web/metadata.json; fi;; esac');
  });

  test('invalid options fail before any file is read', async () => {
    const root = workspace({ 'app/Dockerfile': 'FROM a\n' });
    await expect(infer(root, { targetName: 1 })).rejects.toThrow('nx-buildkit plugin option "targetName"');
  });

  describe('inputs follow what the build reads, wherever the option is set', () => {
    const files = (inputs: unknown) => (inputs as unknown[]).filter((i): i is string => typeof i === 'string');
    const base = {
      'apps/web/Dockerfile': 'FROM alpine\nCOPY . /ctx\n',
      'libs/ui/index.html': 'x',
      'libs/ui/.dockerignore': 'notes.draft\n*.md\n',
      'docker/web.Dockerfile': 'FROM alpine\n',
    };

    test('a context outside the project root, set in project.json: that directory less its ignore file, and the Dockerfile', async () => {
      const root = workspace({ ...base, 'apps/web/project.json': JSON.stringify({ name: 'web', targets: { image: { options: { context: 'libs/ui' } } } }) });
      expect(files((await projects(root))['apps/web']!.targets.image!.inputs)).toEqual([
        '{workspaceRoot}/libs/ui/**/*',
        '{projectRoot}/Dockerfile',
        '{projectRoot}/Dockerfile.dockerignore',
        // Read for the image's labels (ociLabels, on by default).
        '{projectRoot}/package.json',
        '{projectRoot}/project.json',
        '!{workspaceRoot}/libs/ui/notes.draft',
        '!{workspaceRoot}/libs/ui/notes.draft/**',
        '!{workspaceRoot}/libs/ui/*.md',
        '!{workspaceRoot}/libs/ui/*.md/**',
      ]);
    });

    test('context "." and a Dockerfile elsewhere, set in package.json', async () => {
      const root = workspace({ ...base, 'apps/web/package.json': JSON.stringify({ name: 'web', nx: { targets: { image: { options: { context: '.', dockerfile: 'docker/web.Dockerfile' } } } } }) });
      expect(files((await projects(root))['apps/web']!.targets.image!.inputs)).toEqual(['{workspaceRoot}/**/*', '{workspaceRoot}/docker/web.Dockerfile']);
    });

    test('targetDefaults by target name and by executor, and configurations', async () => {
      const root = workspace({ ...base, 'apps/web/project.json': JSON.stringify({ name: 'web', targets: { image: { configurations: { prod: { context: 'libs/prod' } } } } }) });
      const byName = await projects(root, undefined, { targetDefaults: { image: { options: { context: 'libs/ui' }, configurations: { dev: { namedContexts: { assets: 'local:assets' } } } } } });
      expect(files(byName['apps/web']!.targets.image!.inputs).filter((i) => i.endsWith('**/*'))).toEqual(['{workspaceRoot}/assets/**/*', '{workspaceRoot}/libs/prod/**/*', '{workspaceRoot}/libs/ui/**/*']);
      const byExecutor = await projects(root, undefined, { targetDefaults: { 'nx-buildkit:image': { options: { context: 'libs/ui' } }, image: { options: { context: 'nope' } } } });
      expect(files(byExecutor['apps/web']!.targets.image!.inputs).filter((i) => i.endsWith('**/*'))).toEqual(['{workspaceRoot}/libs/prod/**/*', '{workspaceRoot}/libs/ui/**/*']);
    });

    test('a named context inside the context keeps the context\'s negations out of it; a named context gets none of its own', async () => {
      const root = workspace({
        'app/Dockerfile': 'FROM alpine\n',
        'app/.dockerignore': 'assets\nvendor\n',
        'app/assets/.dockerignore': 'x\n',
        'app/project.json': JSON.stringify({ name: 'app', targets: { image: { options: { namedContexts: { a: 'local:app/assets' } } } } }),
      });
      expect(files((await projects(root))['app']!.targets.image!.inputs)).toEqual([
        '{projectRoot}/**/*',
        '{projectRoot}/assets/**/*',
        '{projectRoot}/Dockerfile',
        '!{projectRoot}/vendor',
        '!{projectRoot}/vendor/**',
      ]);
    });

    test('tar, oci, docker and local destinations and a custom metadata file are outputs', async () => {
      const root = workspace({
        'app/Dockerfile': 'FROM alpine\n',
        'app/project.json': JSON.stringify({
          name: 'app',
          targets: { image: { options: { metadataFile: 'out/app/meta.json', outputs: [{ type: 'tar', dest: 'out/app.tar' }, { type: 'local', dest: 'app/rootfs' }] }, configurations: { oci: { outputs: [{ type: 'oci', dest: 'out/app.oci' }] } } } },
        }),
      });
      expect((await projects(root))['app']!.targets.image!.outputs).toEqual([
        '{workspaceRoot}/out/app/meta.json',
        '{workspaceRoot}/out/app/build-report.json',
        '{workspaceRoot}/out/app.tar',
        '{projectRoot}/rootfs',
        '{workspaceRoot}/out/app.oci',
      ]);
    });

    test("outputs in buildx's string form name the same files", async () => {
      const root = workspace({
        'app/Dockerfile': 'FROM alpine\n',
        'app/project.json': JSON.stringify({
          name: 'app',
          targets: { image: { options: { outputs: ['type=tar,dest=out/app.tar', 'app/rootfs', '"type=oci","dest=out/a,b.oci",tar=false', 'type=cacheonly', 'type=bogus,dest=x'] } } },
        }),
      });
      expect((await projects(root))['app']!.targets.image!.outputs).toEqual([
        '{workspaceRoot}/dist/images/{projectRoot}/metadata.json',
        '{workspaceRoot}/dist/images/{projectRoot}/build-report.json',
        '{workspaceRoot}/out/app.tar',
        '{projectRoot}/rootfs',
        '{workspaceRoot}/out/a,b.oci',
      ]);
    });
  });
});
