/**
 * Build the JavaScript that the package ships in `dist/`: Nx running under
 * Node cannot load our TypeScript (design.md §6), so every entry Nx loads is
 * bundled to CommonJS for Node. Dependencies stay external (resolved from
 * node_modules at run time, so Nx and the plugin share one `nx`).
 *
 * Usage: bun scripts/build-dist.ts
 */
import path from 'node:path';

/** Every file Nx loads from the package: source entry → output file. Add executors here. */
const entries: { entry: string; out: string }[] = [
  { entry: 'plugin/index.ts', out: 'dist/plugin/index.cjs' },
  // executors.json points here
  { entry: 'executors/image/impl.ts', out: 'dist/executors/image/impl.cjs' },
  { entry: 'executors/image/batch-impl.ts', out: 'dist/executors/image/batch-impl.cjs' },
  // the runtime input of inferred image targets (plugin/nodes/image-target.ts)
  { entry: 'plugin/cache/check-image-cli.ts', out: 'dist/check-image.cjs' },
];

const repoRoot = path.resolve(import.meta.dir, '..');

for (const { entry, out } of entries) {
  const result = await Bun.build({
    entrypoints: [path.join(repoRoot, entry)],
    outdir: path.join(repoRoot, path.dirname(out)),
    naming: path.basename(out),
    target: 'node',
    format: 'cjs',
    // Every bare import (nx, @nx/devkit, zod, grpc-js, protobufjs, minimatch…) is a dependency to resolve at run time.
    packages: 'external',
    sourcemap: 'linked',
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build-dist: ${entry} failed to build`);
  }
  console.log(`build-dist: ${entry} → ${out}`);
}
