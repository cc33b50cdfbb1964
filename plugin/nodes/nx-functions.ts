import type * as devkit from '@nx/devkit';

/**
 * The Nx functions inference calls, required from the Nx module that defines
 * them rather than through `@nx/devkit` or `nx/src/devkit-internals`. Those
 * barrels load most of Nx (generators, the task runner…): about 0.1 s of CPU
 * in every Nx plugin worker, on every graph computation, while the defining
 * modules are ones the plugin worker has loaded already. Where a release of
 * Nx moved a function, the barrel serves it.
 */
function nxFunction<F>(name: string, modules: readonly string[], barrel: string): () => F {
  let found: F | undefined;
  return () => {
    if (found) return found;
    for (const m of [...modules, barrel]) {
      try {
        const f = (require(m) as Record<string, unknown>)[name];
        if (typeof f === 'function') return (found = f as F);
      } catch {
        // Not in this release of Nx: try the next module, the barrel last.
      }
    }
    throw new Error(`nx-buildkit: this version of Nx has no ${name} (looked in ${[...modules, barrel].join(', ')})`);
  };
}

const createNodesFromFilesFn = nxFunction<typeof devkit.createNodesFromFiles>('createNodesFromFiles', ['nx/src/project-graph/plugins/utils'], '@nx/devkit');
const readJsonFileFn = nxFunction<typeof devkit.readJsonFile>('readJsonFile', ['nx/src/utils/fileutils'], '@nx/devkit');
const readTargetDefaultsFn = nxFunction<typeof import('nx/src/devkit-internals').readTargetDefaultsForTarget>(
  'readTargetDefaultsForTarget',
  // Nx 24 / Nx 20-23.
  ['nx/src/project-graph/utils/project-configuration/target-defaults', 'nx/src/project-graph/utils/project-configuration-utils'],
  'nx/src/devkit-internals',
);

export const createNodesFromFiles: typeof devkit.createNodesFromFiles = (...args) => createNodesFromFilesFn()(...args);
export const readJsonFile: typeof devkit.readJsonFile = (...args) => readJsonFileFn()(...args);
export const readTargetDefaultsForTarget: typeof import('nx/src/devkit-internals').readTargetDefaultsForTarget = (...args) => readTargetDefaultsFn()(...args);
