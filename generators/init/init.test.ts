import { describe, expect, spyOn, test } from 'bun:test';
import { logger, readNxJson, updateNxJson } from '@nx/devkit';
import { createTreeWithEmptyWorkspace } from '@nx/devkit/testing';
import initGenerator from './init';

function quietly<T>(run: () => Promise<T>): Promise<{ value: T; lines: string[] }> {
  const lines: string[] = [];
  const spy = spyOn(logger, 'info').mockImplementation((...args: unknown[]) => void lines.push(args.join(' ')));
  return run().then(
    (value) => (spy.mockRestore(), { value, lines }),
    (error) => { spy.mockRestore(); throw error; },
  );
}

describe('init generator', () => {
  test('registers the plugin and ignores dist/images in a fresh workspace, saying so', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const { lines } = await quietly(() => initGenerator(tree, { skipFormat: true }));
    expect(readNxJson(tree)?.plugins).toEqual([{ plugin: 'nx-buildkit', options: {} }]);
    expect(tree.read('.gitignore', 'utf-8')).toContain('\n/dist/images\n');
    expect(lines).toEqual([
      'nx-buildkit: registered the plugin in nx.json: every project with a Dockerfile gets an `image` target',
      'nx-buildkit: added /dist/images (image metadata and build reports) to .gitignore',
    ]);
  });

  test('is idempotent: a second run changes nothing', async () => {
    const tree = createTreeWithEmptyWorkspace();
    await quietly(() => initGenerator(tree, { skipFormat: true }));
    const nxJson = tree.read('nx.json', 'utf-8');
    const gitignore = tree.read('.gitignore', 'utf-8');
    const { lines } = await quietly(() => initGenerator(tree, { skipFormat: true }));
    expect(tree.read('nx.json', 'utf-8')).toBe(nxJson);
    expect(tree.read('.gitignore', 'utf-8')).toBe(gitignore);
    expect(lines).toEqual([
      'nx-buildkit: the plugin is already registered in nx.json (left as it is)',
      'nx-buildkit: .gitignore already ignores dist/images',
    ]);
  });

  test('keeps an existing registration with its options, and other plugins', async () => {
    for (const existing of [{ plugin: 'nx-buildkit', options: { targetName: 'docker', push: true } }, 'nx-buildkit'] as const) {
      const tree = createTreeWithEmptyWorkspace();
      const nxJson = readNxJson(tree)!;
      nxJson.plugins = ['@nx/js', existing];
      updateNxJson(tree, nxJson);
      await quietly(() => initGenerator(tree, { skipFormat: true }));
      expect(readNxJson(tree)?.plugins).toEqual(['@nx/js', existing]);
    }
  });

  test('adds the plugin after the plugins already registered', async () => {
    const tree = createTreeWithEmptyWorkspace();
    const nxJson = readNxJson(tree)!;
    nxJson.plugins = [{ plugin: '@nx/js/typescript', options: { typecheck: true } }];
    updateNxJson(tree, nxJson);
    await quietly(() => initGenerator(tree, { skipFormat: true }));
    expect(readNxJson(tree)?.plugins).toEqual([{ plugin: '@nx/js/typescript', options: { typecheck: true } }, { plugin: 'nx-buildkit', options: {} }]);
  });

  test.each([['dist\n'], ['/dist/\n'], ['dist/images'], ['/dist/images/**\n'], ['node_modules\n/dist\n']])('leaves a .gitignore that already covers dist/images alone: %j', async (gitignore) => {
    const tree = createTreeWithEmptyWorkspace();
    tree.write('.gitignore', gitignore);
    await quietly(() => initGenerator(tree, { skipFormat: true }));
    expect(tree.read('.gitignore', 'utf-8')).toBe(gitignore);
  });

  test('adds dist/images when dist is ignored and then re-included, or not ignored at all; keeps what was there', async () => {
    for (const gitignore of ['dist\n!dist/images\n', 'node_modules', 'dist-old/\n']) {
      const tree = createTreeWithEmptyWorkspace();
      tree.write('.gitignore', gitignore);
      await quietly(() => initGenerator(tree, { skipFormat: true }));
      const after = tree.read('.gitignore', 'utf-8')!;
      expect(after.startsWith(gitignore.endsWith('\n') ? gitignore : `${gitignore}\n`)).toBe(true);
      expect(after.endsWith('/dist/images\n')).toBe(true);
    }
  });

  test('creates .gitignore when the workspace has none', async () => {
    const tree = createTreeWithEmptyWorkspace();
    tree.delete('.gitignore');
    await quietly(() => initGenerator(tree, { skipFormat: true }));
    expect(tree.read('.gitignore', 'utf-8')).toBe('\n# image metadata and build reports written by nx-buildkit\n/dist/images\n');
  });
});
