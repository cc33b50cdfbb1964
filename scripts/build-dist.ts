/**
 * Build the JavaScript and types that the package ships in `dist/`: Nx
 * running under Node cannot load our TypeScript (design.md §6), so every
 * entry Nx loads is bundled to CommonJS for Node, and the BuildKit client
 * (`nx-buildkit/buildkit`) to both ES modules and CommonJS. Dependencies stay
 * external (resolved from node_modules at run time, so Nx and the plugin share
 * one `nx`). Types are bundled into one declaration file per export, so they
 * hold no relative imports whose resolution would differ between ESM and CJS
 * consumers.
 *
 * Usage: bun scripts/build-dist.ts [--no-types]
 * (`--no-types`: the JavaScript only, for tests that run Nx against dist/;
 * the declarations take the TypeScript compiler a minute on a busy machine.)
 */
import fs from 'node:fs';
import path from 'node:path';

/**
 * Dependencies bundled into the files Nx loads rather than resolved at run
 * time: small pure libraries whose many modules cost Node more to find and
 * load one by one than to parse in one file (zod alone is ~100 files: a
 * third of the executor's start-up, measured with NXBK_DEBUG_TIMING; the
 * executor's start is on the path of every `nx run-many -t image`, the
 * plugin's on every Nx command). `nx` stays external (Nx and the plugin must
 * share one), as do grpc-js and protobufjs (large, bundling them measured no faster).
 */
const inlinedInNxEntries = ['zod', 'minimatch'] as const;

/** Every file the package's users or Nx load: source entry → output file (its extension picks the format). */
const entries: { entry: string; out: string; inline?: readonly string[] }[] = [
  // package.json "." (Nx loads the plugin from here)
  { entry: 'plugin/index.ts', out: 'dist/plugin/index.cjs', inline: inlinedInNxEntries },
  // executors.json points here
  { entry: 'executors/image/executor.ts', out: 'dist/executors/image/executor.cjs', inline: inlinedInNxEntries },
  // generators.json points here
  { entry: 'generators/init/init.ts', out: 'dist/generators/init/init.cjs' },
  { entry: 'generators/convert-from-nx-container/convert.ts', out: 'dist/generators/convert-from-nx-container/convert.cjs' },
  // the runtime input of inferred image targets (plugin/nodes/image-target.ts)
  { entry: 'plugin/cache/check-image-cli.ts', out: 'dist/check-image.cjs' },
  // package.json "./buildkit"
  { entry: 'plugin/buildkit/index.ts', out: 'dist/buildkit/index.mjs' },
  { entry: 'plugin/buildkit/index.ts', out: 'dist/buildkit/index.cjs' },
  // package.json "./engine"
  { entry: 'plugin/engine/index.ts', out: 'dist/engine/index.mjs' },
  { entry: 'plugin/engine/index.ts', out: 'dist/engine/index.cjs' },
];

/** Declarations: source entry → files holding the same bundled text (`.d.cts` for CommonJS entries, `.d.ts` for ESM). */
const declarations: { entry: string; outs: string[] }[] = [
  { entry: 'plugin/index.ts', outs: ['dist/plugin/index.d.cts'] },
  { entry: 'plugin/buildkit/index.ts', outs: ['dist/buildkit/index.d.ts', 'dist/buildkit/index.d.cts'] },
  { entry: 'plugin/engine/index.ts', outs: ['dist/engine/index.d.ts', 'dist/engine/index.d.cts'] },
];

const repoRoot = path.resolve(import.meta.dir, '..');
const withTypes = !process.argv.includes('--no-types');
// A full build starts afresh, so dist/ holds nothing a removed entry left behind.
if (withTypes) fs.rmSync(path.join(repoRoot, 'dist'), { recursive: true, force: true });

const manifest = JSON.parse(fs.readFileSync(path.join(import.meta.dir, '..', 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; peerDependencies?: Record<string, string> };
const runtimePackages = [...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})];

for (const { entry, out, inline } of entries) {
  // External: every dependency and peer not inlined, with its subpaths (`nx/src/…`).
  const external = inline ? runtimePackages.filter((d) => !inline.includes(d)).flatMap((d) => [d, `${d}/*`]) : undefined;
  const result = await Bun.build({
    entrypoints: [path.join(repoRoot, entry)],
    outdir: path.join(repoRoot, path.dirname(out)),
    naming: path.basename(out),
    target: 'node',
    format: out.endsWith('.mjs') ? 'esm' : 'cjs',
    // Every bare import (nx, @nx/devkit, zod, grpc-js, protobufjs, minimatch…) is a dependency to resolve at run time, but what `inline` names.
    ...(external ? { external } : { packages: 'external' as const }),
  });
  if (!result.success) {
    for (const log of result.logs) console.error(log);
    throw new Error(`build-dist: ${entry} failed to build`);
  }
  console.log(`build-dist: ${entry} → ${out}`);
}

if (withTypes) {
  const cli = path.join(repoRoot, 'node_modules/dts-bundle-generator/dist/bin/dts-bundle-generator.js');
  for (const { entry, outs } of declarations) {
    // One run per entry: its config-file mode with several entries took ten times as long here.
    // Node, not Bun: the TypeScript compiler runs several times faster under it.
    const run = Bun.spawnSync(
      ['node', cli, '--silent', '--no-check', '--no-banner', '--project', path.join(repoRoot, 'tsconfig.dts.json'), '-o', path.join(repoRoot, outs[0]!), path.join(repoRoot, entry)],
      { cwd: repoRoot, stdout: 'inherit', stderr: 'inherit' },
    );
    if (run.exitCode !== 0) throw new Error(`build-dist: dts-bundle-generator exited ${run.exitCode} for ${entry}`);
    for (const out of outs.slice(1)) fs.copyFileSync(path.join(repoRoot, outs[0]!), path.join(repoRoot, out));
    console.log(`build-dist: ${entry} → ${outs.join(', ')} (types)`);
  }
}

// The bundler inlines `__dirname`, `__filename` and `import.meta.url` as the
// build machine's paths; shipped code must find its files at run time instead.
for (const file of fs.readdirSync(path.join(repoRoot, 'dist'), { recursive: true, encoding: 'utf8' })) {
  const full = path.join(repoRoot, 'dist', file);
  if (fs.statSync(full).isFile() && fs.readFileSync(full, 'utf8').includes(repoRoot)) {
    throw new Error(`build-dist: dist/${file} contains this checkout's path (${repoRoot}); use a run-time lookup instead of __dirname/import.meta`);
  }
}
