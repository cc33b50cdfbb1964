import fs from 'node:fs';
import path from 'node:path';
import type { CreateDependencies, DependencyType, ProjectConfiguration, RawProjectGraphDependency } from '@nx/devkit';
import { InvalidOptionsError } from '../config/executor-options';
import { parsePluginOptions, type NxBuildkitPluginOptions } from '../config/plugin-options';
import { findImageDependencies, ImageIndex, type ImageProject } from './image-projects';
import { imageExecutor } from './image-target';

/**
 * Project graph edges from each image project to the projects whose images
 * its Dockerfile uses (`FROM`, `COPY --from`, `RUN --mount=from=`), so that
 * `nx affected` counts an image's dependants as affected when it changes.
 *
 * Unlike createNodes, this sees the final project configurations: names and
 * image options from every source (project.json, package.json, nx.json
 * `targetDefaults`, other plugins).
 */
export const createDependencies: CreateDependencies<NxBuildkitPluginOptions> = (rawOptions, context) => {
  let targetName: string;
  try {
    ({ targetName } = parsePluginOptions(rawOptions));
  } catch (err) {
    // createNodes already failed the graph with these very problems; Nx would print them a second time.
    if (err instanceof InvalidOptionsError) return [];
    throw err;
  }
  const images = Object.entries(context.projects).flatMap(([name, config]) => {
    const target = config.targets?.[targetName];
    return target?.executor === imageExecutor ? [{ name, config, options: (target.options ?? {}) as Record<string, unknown> }] : [];
  });
  const index = new ImageIndex(images);
  const out: RawProjectGraphDependency[] = [];
  for (const image of images) {
    const dockerfile = dockerfileOf(image, image.config);
    let text: string;
    try {
      text = fs.readFileSync(path.join(context.workspaceRoot, dockerfile), 'utf8');
    } catch {
      // No Dockerfile (yet): the build will say so; the graph just has no edges for it.
      continue;
    }
    const projectFiles = context.fileMap.projectFileMap[image.name] ?? [];
    // A static edge must name a file of its source project; a Dockerfile kept elsewhere gives an implicit one.
    const owned = projectFiles.some((f) => f.file === dockerfile);
    for (const target of new Set(findImageDependencies(text, image, index).map((d) => d.project))) {
      out.push(
        owned
          ? { source: image.name, target, type: staticDependency, sourceFile: dockerfile }
          : { source: image.name, target, type: implicitDependency },
      );
    }
  }
  return out;
};

/** The Dockerfile the executor will read, relative to the workspace root (the executor's defaults). */
function dockerfileOf(image: ImageProject, config: ProjectConfiguration): string {
  const fill = (value: unknown) =>
    typeof value === 'string'
      ? path.posix.normalize(value.replaceAll('{projectRoot}', config.root).replaceAll('{projectName}', image.name).replace(/^\{workspaceRoot\}\/?/, '') || '.')
      : undefined;
  const context = fill(image.options.context) ?? config.root;
  return fill(image.options.dockerfile) ?? path.posix.join(context, 'Dockerfile');
}

// Nx's DependencyType values, written out: the enum lives in @nx/devkit, whose
// loading inference avoids (see nx-functions.ts).
const staticDependency = 'static' as DependencyType.static;
const implicitDependency = 'implicit' as DependencyType.implicit;
