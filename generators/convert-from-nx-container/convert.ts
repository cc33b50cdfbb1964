import {
  formatFiles, getProjects, logger, readNxJson, updateNxJson, updateProjectConfiguration,
  type GeneratorCallback, type TargetConfiguration, type TargetDependencyConfig, type Tree,
} from '@nx/devkit';
import { InvalidOptionsError, parseImageOptions } from '../../plugin/config/executor-options';
import initGenerator from '../init/init';
import { convertNxContainerOptions } from './convert-options';

/** Options of `nx g nx-buildkit:convert-from-nx-container` (schema.json). */
export interface ConvertGeneratorOptions {
  /** Convert this project's targets only (default: every project). */
  project?: string;
  skipFormat?: boolean;
}

/** The executors whose targets this generator rewrites: both take nx-container's inputs. */
export const convertedExecutors = ['@nx-tools/nx-container:build', '@nx/docker:build'];
const pluginName = 'nx-buildkit';

/**
 * `nx g nx-buildkit:convert-from-nx-container`: rewrites every
 * `@nx-tools/nx-container:build` and `@nx/docker:build` target into an
 * nx-buildkit image target (named as the plugin's inferred targets, `image`
 * by default), its configurations too, and points `dependsOn` entries that
 * named the old target at the new one. Prints, per target, every input it
 * left out or whose meaning changed; nothing is dropped without a line.
 * Registers the plugin first when nx.json does not (as `nx add` does).
 */
export default async function convertFromNxContainer(tree: Tree, options: ConvertGeneratorOptions = {}): Promise<GeneratorCallback> {
  await initGenerator(tree, { skipFormat: true });
  const targetName = inferredTargetName(tree);
  const renamed = new Map<string, Set<string>>();
  let converted = 0;
  for (const [project, config] of getProjects(tree)) {
    if (options.project && project !== options.project) continue;
    const targets = { ...config.targets };
    let changed = false;
    for (const [name, target] of Object.entries(config.targets ?? {})) {
      if (!convertedExecutors.includes(target.executor ?? '')) continue;
      const where = `${project}:${name}`;
      if (name !== targetName && targets[targetName]) {
        logger.warn(`${pluginName}: ${where} not converted: the project already has a "${targetName}" target`);
        continue;
      }
      const { target: rewritten, lines } = convertTarget(target, config.root, { project, target: targetName });
      delete targets[name];
      targets[targetName] = rewritten;
      converted += 1;
      changed = true;
      logger.info(`${pluginName}: converted ${where} (${target.executor}) → ${project}:${targetName} (nx-buildkit:image)`);
      for (const line of lines) (line.startsWith('note: ') ? logger.info : logger.warn)(`${pluginName}:   ${where}: ${line}`);
      if (name !== targetName) renamed.set(name, (renamed.get(name) ?? new Set()).add(project));
    }
    if (changed) updateProjectConfiguration(tree, project, { ...config, targets });
  }
  renameDependencies(tree, renamed, targetName);
  for (const key of Object.keys(readNxJson(tree)?.targetDefaults ?? {})) {
    if (convertedExecutors.includes(key) || renamed.has(key)) {
      logger.warn(`${pluginName}: nx.json targetDefaults "${key}" not converted: move its options into the plugin's options or an "${targetName}" entry by hand`);
    }
  }
  if (converted === 0) logger.info(`${pluginName}: no ${convertedExecutors.join(' or ')} targets${options.project ? ` in ${options.project}` : ''} to convert`);
  if (!options.skipFormat) await formatFiles(tree);
  return () => {};
}

/** One target and its configurations; every other target key (dependsOn, inputs, cache…) is kept, but for outputs. */
function convertTarget(target: TargetConfiguration, root: string, where: { project: string; target: string }): { target: TargetConfiguration; lines: string[] } {
  const { executor: _executor, options = {}, configurations, outputs, ...rest } = target;
  const lines: string[] = [];
  const own = convertNxContainerOptions(options, { projectRoot: root, base: true });
  lines.push(...own.problems, ...own.notes.map((n) => `note: ${n}`));
  if (outputs) lines.push('note: "outputs" dropped: the inferred target names the metadata file and every export destination as Nx outputs');
  const converted: Record<string, Record<string, unknown>> = {};
  for (const [name, config] of Object.entries(configurations ?? {})) {
    const c = convertNxContainerOptions(config, { projectRoot: root, base: false });
    converted[name] = c.options;
    lines.push(...c.problems.map((p) => `configuration ${name}: ${p}`), ...c.notes.map((n) => `note: configuration ${name}: ${n}`));
  }
  // What still does not validate is said now, not at the first build.
  for (const [name, merged] of [['', own.options], ...Object.entries(converted).map(([n, c]) => [n, { ...own.options, ...c }] as const)] as const) {
    try {
      parseImageOptions(merged, { project: where.project, target: name ? `${where.target}:${name}` : where.target });
    } catch (error) {
      if (!(error instanceof InvalidOptionsError)) throw error;
      lines.push(...error.problems.map((p) => `invalid after conversion, fix by hand: ${p}`));
    }
  }
  return {
    target: { ...rest, executor: 'nx-buildkit:image', options: own.options, ...(configurations ? { configurations: converted } : {}) },
    lines,
  };
}

/** The plugin's inferred target name in nx.json (`image` unless set). */
function inferredTargetName(tree: Tree): string {
  for (const p of readNxJson(tree)?.plugins ?? []) {
    if (typeof p !== 'string' && p.plugin === pluginName) {
      const name = (p.options as { targetName?: unknown } | undefined)?.targetName;
      if (typeof name === 'string') return name;
    }
  }
  return 'image';
}

/**
 * dependsOn entries (`container`, `^container`, `{ target: 'container' }`) of
 * every project and of nx.json's targetDefaults now name the new target —
 * where the old name no longer names a target of any project the entry could
 * mean.
 */
function renameDependencies(tree: Tree, renamed: Map<string, Set<string>>, targetName: string): void {
  const stillThere = new Set<string>();
  for (const [, config] of getProjects(tree)) for (const name of Object.keys(config.targets ?? {})) stillThere.add(name);
  const names = [...renamed.keys()].filter((n) => !stillThere.has(n));
  if (names.length === 0) return;
  const rename = (deps: (string | TargetDependencyConfig)[] | undefined): [typeof deps, boolean] => {
    if (!deps) return [deps, false];
    let changed = false;
    const next = deps.map((d) => {
      if (typeof d === 'string') {
        const bare = d.replace(/^\^/, '');
        if (!names.includes(bare)) return d;
        changed = true;
        return `${d.startsWith('^') ? '^' : ''}${targetName}`;
      }
      if (d.target && names.includes(d.target)) {
        changed = true;
        return { ...d, target: targetName };
      }
      return d;
    });
    return [next, changed];
  };
  for (const [project, config] of getProjects(tree)) {
    let touched = false;
    for (const [name, target] of Object.entries(config.targets ?? {})) {
      const [deps, changed] = rename(target.dependsOn);
      if (!changed) continue;
      target.dependsOn = deps;
      touched = true;
      logger.info(`${pluginName}: ${project}:${name} dependsOn now names "${targetName}" instead of ${names.map((n) => `"${n}"`).join(', ')}`);
    }
    if (touched) updateProjectConfiguration(tree, project, config);
  }
  const nxJson = readNxJson(tree);
  let touched = false;
  for (const [name, value] of Object.entries(nxJson?.targetDefaults ?? {})) {
    // Newer Nx versions also allow a list of entries per key.
    for (const defaults of (Array.isArray(value) ? value : [value]) as Array<{ dependsOn?: (string | TargetDependencyConfig)[] }>) {
      const [deps, changed] = rename(defaults.dependsOn);
      if (!changed) continue;
      defaults.dependsOn = deps;
      touched = true;
      logger.info(`${pluginName}: nx.json targetDefaults "${name}" dependsOn now names "${targetName}"`);
    }
  }
  if (touched && nxJson) updateNxJson(tree, nxJson);
}
