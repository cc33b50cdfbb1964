/**
 * The import rules of docs/design (layers point one way): a pure function
 * from one import (the importing file, what it names, the file that names
 * resolves to) to the rule it breaks, if any. Paths are relative to the
 * repository root, with `/` separators.
 */

/** One import as the checker sees it. */
export interface ImportEdge {
  /** The importing file, e.g. `plugin/engine/run-engine.ts`. */
  from: string;
  /** The specifier as written, e.g. `../buildkit/index` or `node:fs`. */
  specifier: string;
  /** The repository file a relative specifier resolves to; undefined for packages. */
  to?: string;
}

/** Packages the BuildKit client may use (besides `node:*`): it never imports Nx or zod. */
const clientPackages = new Set(['@grpc/grpc-js', 'protobufjs']);

/**
 * How code outside the client reaches it: the whole client, the part that
 * loads without gRPC (for the Nx graph plugin), and the timing switch.
 */
const clientEntryPoints = new Set(['plugin/buildkit/index.ts', 'plugin/buildkit/foundation.ts', 'plugin/buildkit/debug-timing.ts']);

/** The public entry points of the package (its `exports`): all that e2e/ and bench/ may import. */
export const publicEntryPoints = new Set(['plugin/index.ts', 'plugin/buildkit/index.ts', 'plugin/engine/index.ts']);

const under = (file: string | undefined, dir: string) => file !== undefined && (file === dir || file.startsWith(`${dir}/`));

/** The rule `edge` breaks, in words, or undefined when it keeps them all. */
export function brokenRule(edge: ImportEdge): string | undefined {
  const { from, specifier, to } = edge;
  if (under(from, 'plugin') && under(to, 'executors')) return 'plugin/ never imports executors/';
  if (under(from, 'plugin/nodes') && (under(to, 'plugin/buildkit') || under(to, 'plugin/engine'))) return 'plugin/nodes imports plugin/config, never the client or the engine';
  if (under(from, 'plugin/engine') && under(to, 'plugin/nodes')) return 'plugin/engine never imports plugin/nodes (what both need lives below them)';
  if (under(from, 'plugin/config') && under(to, 'plugin/engine')) return 'plugin/config never imports plugin/engine';
  if (under(from, 'plugin/dockerfile') && under(to, 'plugin') && !under(to, 'plugin/dockerfile')) return 'plugin/dockerfile (the Dockerfile reader nodes and engine share) imports nothing of the plugin';
  if (under(from, 'plugin/buildkit')) return clientRule(from, specifier, to);
  // debug-timing.ts imports nothing: the executor's entry marks its first moment through it before the client loads.
  if (under(to, 'plugin/buildkit') && !under(from, 'plugin/buildkit') && !clientEntryPoints.has(to!) && (under(from, 'plugin') || under(from, 'executors'))) {
    return 'outside plugin/buildkit, the client is imported only through plugin/buildkit/index.ts (or foundation.ts, debug-timing.ts)';
  }
  if ((under(from, 'e2e') || under(from, 'bench')) && to !== undefined && (under(to, 'plugin') || under(to, 'executors')) && !publicEntryPoints.has(to)) {
    return `e2e/ and bench/ use only the package's public entry points (${[...publicEntryPoints].join(', ')})`;
  }
  return undefined;
}

/** Rules inside the BuildKit client. Its tests may reach across folders (a session test serves a real provider). */
function clientRule(from: string, specifier: string, to: string | undefined): string | undefined {
  const test = from.endsWith('.test.ts');
  if (to === undefined) {
    if (specifier.startsWith('node:') || clientPackages.has(specifier) || (test && specifier === 'bun:test')) return undefined;
    return `plugin/buildkit imports only ${[...clientPackages].join(', ')} and node:* (not "${specifier}")`;
  }
  if (!under(to, 'plugin/buildkit')) return 'plugin/buildkit imports nothing of the plugin above it';
  if (test) return undefined;
  const area = (file: string) => file.split('/')[2] ?? '';
  if (area(from) === 'control' && area(to) === 'session') return 'control/ and session/ do not import each other (client.ts joins them)';
  if (area(from) === 'session' && area(to) === 'control') return 'control/ and session/ do not import each other (client.ts joins them)';
  if (area(from) === 'session' && area(to) === 'attachables') return 'attachables implement the session\'s Attachable interface: session/ never imports them';
  if (area(to) === 'gen' && area(from) !== 'gen' && area(from) !== 'protocol' && !from.endsWith('/wire.ts') && !from.endsWith('/wire.test.ts')) {
    return 'generated code (gen/) is imported only by the wire.ts adapters and the codec layer (protocol/)';
  }
  return undefined;
}
