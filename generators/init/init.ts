import { formatFiles, logger, readNxJson, updateNxJson, type GeneratorCallback, type Tree } from '@nx/devkit';

/** Options of `nx g nx-buildkit:init` (schema.json). */
export interface InitGeneratorOptions {
  /** Leave the workspace's formatting alone (Nx's usual flag). */
  skipFormat?: boolean;
  /** Passed by `nx add`; nx-buildkit installs no other packages, so there are no versions to keep. */
  keepExistingVersions?: boolean;
}

const pluginName = 'nx-buildkit';
/** Where image targets write their metadata and build reports by default (plugin/nodes/image-target.ts). */
const metadataDirectory = 'dist/images';

/**
 * `nx add nx-buildkit` / `nx g nx-buildkit:init`: registers the plugin in
 * nx.json (once; an existing registration and its options stay as they are)
 * and makes git ignore the images' metadata directory unless it already
 * does. Says what it changed and what it left alone.
 */
export default async function initGenerator(tree: Tree, options: InitGeneratorOptions = {}): Promise<GeneratorCallback> {
  for (const line of [registerPlugin(tree), ignoreMetadata(tree)]) logger.info(`${pluginName}: ${line}`);
  if (!options.skipFormat) await formatFiles(tree);
  return () => {};
}

function registerPlugin(tree: Tree): string {
  const nxJson = readNxJson(tree) ?? {};
  const plugins = nxJson.plugins ?? [];
  const registered = plugins.some((p) => (typeof p === 'string' ? p : p.plugin) === pluginName);
  if (registered) return 'the plugin is already registered in nx.json (left as it is)';
  nxJson.plugins = [...plugins, { plugin: pluginName, options: {} }];
  updateNxJson(tree, nxJson);
  return 'registered the plugin in nx.json: every project with a Dockerfile gets an `image` target';
}

function ignoreMetadata(tree: Tree): string {
  const text = tree.exists('.gitignore') ? tree.read('.gitignore', 'utf-8')! : '';
  if (ignoresMetadata(text)) return `.gitignore already ignores ${metadataDirectory}`;
  const separator = text === '' || text.endsWith('\n') ? '' : '\n';
  tree.write('.gitignore', `${text}${separator}\n# image metadata and build reports written by nx-buildkit\n/${metadataDirectory}\n`);
  return `added /${metadataDirectory} (image metadata and build reports) to .gitignore`;
}

/** Whether a line of the ignore file (without negations after it) covers dist/images: `dist`, `/dist/`, `dist/images`… */
function ignoresMetadata(gitignore: string): boolean {
  let ignored = false;
  for (const raw of gitignore.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const negated = line.startsWith('!');
    const pattern = line.replace(/^!/, '').replace(/^\//, '').replace(/\/(\*\*)?$/, '');
    if (pattern === 'dist' || pattern === metadataDirectory) ignored = !negated;
  }
  return ignored;
}
