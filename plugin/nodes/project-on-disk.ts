import fs from 'node:fs';
import path from 'node:path';
import { readJsonFile } from './nx-functions';

/** What the project files in a root say about its name and its image target. */
export interface ProjectOnDisk {
  name: string;
  /** Options of the image target from `project.json`, over those from `package.json`'s `nx` field. */
  targetOptions: Record<string, unknown>;
  /** The image target as written in `package.json`'s `nx` field, then in `project.json` (later wins), where present. */
  targetConfigs: TargetOnDisk[];
}

/** An image target's options and configurations as one project file writes them. */
export interface TargetOnDisk {
  options: Record<string, unknown>;
  configurations: Record<string, Record<string, unknown>>;
}

/**
 * Read a project's name and image target options from its `project.json` and
 * `package.json`, with Nx's own precedence: `project.json` `name`, else
 * `package.json` `nx.name` or `name`, else the root's last directory,
 * lowercased (Nx's `toProjectName`).
 *
 * createNodes runs before the project graph exists, so this is how one
 * project's inference learns the names and image names of the others. Options
 * set elsewhere (nx.json `targetDefaults`, other plugins) are not seen here;
 * createDependencies sees them.
 */
export function readProjectOnDisk(workspaceRoot: string, root: string, targetName: string): ProjectOnDisk {
  const projectJson = readJson(path.join(workspaceRoot, root, 'project.json'));
  const packageJson = readJson(path.join(workspaceRoot, root, 'package.json'));
  const packageNx = asRecord(packageJson?.nx);
  const name =
    asString(projectJson?.name) ??
    asString(packageNx?.name) ??
    asString(packageJson?.name) ??
    path.basename(root === '.' ? workspaceRoot : root).toLowerCase();
  const targetConfigs = [targetOf(packageNx, targetName), targetOf(projectJson, targetName)].filter((t): t is TargetOnDisk => t !== undefined);
  return {
    name,
    targetOptions: Object.assign({}, ...targetConfigs.map((t) => t.options)),
    targetConfigs,
  };
}

function targetOf(config: Record<string, unknown> | undefined, targetName: string): TargetOnDisk | undefined {
  const target = asRecord(asRecord(config?.targets)?.[targetName]);
  if (!target) return undefined;
  const configurations = Object.fromEntries(
    Object.entries(asRecord(target.configurations) ?? {}).flatMap(([name, value]) => (asRecord(value) ? [[name, asRecord(value)!]] : [])),
  );
  return { options: asRecord(target.options) ?? {}, configurations };
}

/** Nx's own reader: project files may hold comments and trailing commas. */
function readJson(file: string): Record<string, unknown> | undefined {
  if (!fs.existsSync(file)) return undefined;
  try {
    return asRecord(readJsonFile(file));
  } catch {
    // Nx reports a broken project file itself; inference just learns nothing from it.
    return undefined;
  }
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function asString(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}
