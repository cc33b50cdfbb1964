import { readTargetDefaultsForTarget } from './nx-functions';
import type { NxJsonConfiguration } from '@nx/devkit';
import type { TargetOnDisk } from './project-on-disk';

/**
 * Every set of options an image target can run with, as Nx will merge them:
 * the inferred options, under nx.json `targetDefaults` (by executor, else by
 * target name, Nx's own matcher), under `package.json`'s `nx` target, under
 * `project.json`'s; then the same once more for each configuration any of
 * them names. The first entry is the target's own options (no configuration).
 *
 * Nx keeps one list of `inputs` per target whatever configuration runs, so
 * inputs built from all variants cover every run. Options given on the
 * command line are not seen here; the executor's guard catches those.
 */
export function optionVariants(
  inferred: Record<string, unknown>,
  onDisk: readonly TargetOnDisk[],
  nxJson: NxJsonConfiguration | undefined,
  target: { name: string; executor: string; project: string },
): Record<string, unknown>[] {
  const defaults = targetDefaultsOf(nxJson, target);
  const layers: TargetOnDisk[] = [...(defaults ? [defaults] : []), ...onDisk];
  const base = Object.assign({}, inferred, ...layers.map((l) => l.options)) as Record<string, unknown>;
  const names = [...new Set(layers.flatMap((l) => Object.keys(l.configurations)))].sort();
  return [base, ...names.map((name) => Object.assign({}, base, ...layers.map((l) => l.configurations[name] ?? {})) as Record<string, unknown>)];
}

function targetDefaultsOf(nxJson: NxJsonConfiguration | undefined, target: { name: string; executor: string; project: string }): TargetOnDisk | undefined {
  if (!nxJson?.targetDefaults) return undefined;
  let found: { options?: unknown; configurations?: unknown } | null;
  try {
    found = readTargetDefaultsForTarget(target.name, nxJson.targetDefaults, target.executor, { projectName: target.project });
  } catch {
    // Nx reports a malformed targetDefaults itself; inference then sees none.
    return undefined;
  }
  if (!found) return undefined;
  const record = (v: unknown) => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined);
  const configurations = Object.fromEntries(Object.entries(record(found.configurations) ?? {}).flatMap(([k, v]) => (record(v) ? [[k, record(v)!]] : [])));
  return { options: record(found.options) ?? {}, configurations };
}
