import { afterEach, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { CreateDependenciesContext, ProjectConfiguration } from '@nx/devkit';
import { createDependencies } from './create-dependencies';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

interface Fixture {
  files: Record<string, string>;
  projects: Record<string, ProjectConfiguration>;
}

/** Run createDependencies as Nx does, on final project configurations and their file map. */
async function deps({ files, projects }: Fixture, options?: unknown): Promise<unknown[]> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-deps-'));
  dirs.push(root);
  for (const [file, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), text);
  }
  const owner = (file: string) => Object.entries(projects).find(([, p]) => file.startsWith(`${p.root}/`))?.[0];
  const projectFileMap: CreateDependenciesContext['fileMap']['projectFileMap'] = {};
  for (const file of Object.keys(files)) {
    const name = owner(file);
    if (name) (projectFileMap[name] ??= []).push({ file, hash: 'h' });
  }
  const context: CreateDependenciesContext = {
    projects,
    externalNodes: {},
    nxJsonConfiguration: {},
    fileMap: { projectFileMap, nonProjectFiles: [] },
    filesToProcess: { projectFileMap, nonProjectFiles: [] },
    workspaceRoot: root,
  };
  return createDependencies(options as never, context);
}

const image = (options: Record<string, unknown> = {}, executor = 'nx-buildkit:image') => ({ image: { executor, options } });

describe('createDependencies', () => {
  test('edges follow the final configuration: names and image names from any source', async () => {
    const result = await deps({
      files: {
        'base/Dockerfile': 'FROM alpine\n',
        'app/Dockerfile': 'FROM team/base:2\nCOPY --from=tools /t /t\n',
        'tools/Dockerfile': 'FROM alpine\n',
        'shared/app.Dockerfile': 'FROM tools\n',
        'other/Dockerfile': 'FROM tools\n',
      },
      projects: {
        // imageName and tags as nx.json targetDefaults or another plugin could have set them
        'the-base': { root: 'base', targets: image({ context: 'base', dockerfile: 'base/Dockerfile', imageName: 'team/base', tags: ['2'] }) },
        app: { root: 'app', targets: image({ context: 'app', dockerfile: 'app/Dockerfile' }) },
        tools: { root: 'tools', targets: image({ context: 'tools', dockerfile: 'tools/Dockerfile' }) },
        // Dockerfile outside the project: an implicit edge, as a static one must name a project file
        elsewhere: { root: 'elsewhere', targets: image({ dockerfile: 'shared/app.Dockerfile' }) },
        // not built by our executor: neither a source nor a target
        other: { root: 'other', targets: image({}, 'nx:run-commands') },
      },
    });
    expect(result).toEqual([
      { source: 'app', target: 'the-base', type: 'static', sourceFile: 'app/Dockerfile' },
      { source: 'app', target: 'tools', type: 'static', sourceFile: 'app/Dockerfile' },
      { source: 'elsewhere', target: 'tools', type: 'implicit' },
    ]);
  });

  test('invalid plugin options add no edges and no second error (createNodes already reported them)', async () => {
    const result = await deps({ files: { 'a/Dockerfile': 'FROM b\n', 'b/Dockerfile': 'FROM alpine\n' }, projects: { a: { root: 'a', targets: image() }, b: { root: 'b', targets: image() } } }, { targetName: 5 });
    expect(result).toEqual([]);
  });

  test('FROM $BASE with a global ARG default is an edge to the project building the default; an ARG without one is none', async () => {
    const result = await deps({
      files: { 'a/Dockerfile': 'ARG BASE=team/b:1\nFROM ${BASE}\n', 'b/Dockerfile': 'FROM alpine\n', 'c/Dockerfile': 'ARG BASE\nFROM $BASE\n' },
      projects: { a: { root: 'a', targets: image() }, b: { root: 'b', targets: image({ imageName: 'team/b', tags: ['1'] }) }, c: { root: 'c', targets: image() } },
    });
    expect(result).toEqual([{ source: 'a', target: 'b', type: 'static', sourceFile: 'a/Dockerfile' }]);
  });

  test('token paths and a missing Dockerfile', async () => {
    const result = await deps({
      files: { 'a/docker/Dockerfile': 'FROM b\n', 'b/Dockerfile': 'FROM alpine\n' },
      projects: {
        a: { root: 'a', targets: image({ context: '{projectRoot}/docker' }) },
        b: { root: 'b', targets: image({ dockerfile: '{workspaceRoot}/{projectRoot}/Dockerfile' }) },
        c: { root: 'c', targets: image({}) },
      },
    });
    expect(result).toEqual([{ source: 'a', target: 'b', type: 'static', sourceFile: 'a/docker/Dockerfile' }]);
  });

  test('the plugin\'s target name is honoured', async () => {
    const result = await deps(
      {
        files: { 'a/Dockerfile': 'FROM b\n', 'b/Dockerfile': 'FROM alpine\n' },
        projects: {
          a: { root: 'a', targets: { container: { executor: 'nx-buildkit:image', options: {} } } },
          b: { root: 'b', targets: { container: { executor: 'nx-buildkit:image', options: {} } } },
        },
      },
      { targetName: 'container' },
    );
    expect(result).toEqual([{ source: 'a', target: 'b', type: 'static', sourceFile: 'a/Dockerfile' }]);
  });
});
