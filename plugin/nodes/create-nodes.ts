import fs from 'node:fs';
import path from 'node:path';
import type { CreateNodes, CreateNodesContext, CreateNodesResult } from '@nx/devkit';
import { createNodesFromFiles } from './nx-functions';
import { Minimatch } from 'minimatch';
import { parsePluginOptions, type NormalizedPluginOptions, type NxBuildkitPluginOptions } from '../config/plugin-options';
import { dependencyProjects, findImageDependencies, ImageIndex, type ImageProject } from './image-projects';
import { checkImageCommands, type CheckImageCommand } from './check-image-command';
import { imageExecutor, inferImageTarget } from './image-target';
import { optionVariants } from './option-variants';
import { readSetOf } from '../config/read-set';
import { readSetInputs } from './read-set-inputs';
import { checkoutInputs } from './checkout-inputs';
import { readProjectOnDisk, type ProjectOnDisk } from './project-on-disk';

/**
 * The files Nx hands to the plugin. Nx reads this glob before it has the
 * options, so it is wide enough for any `dockerfilePatterns` (whose names must
 * contain Dockerfile or Containerfile); the options then narrow it.
 */
export const dockerfileDiscoveryGlob = '**/*{Dockerfile,dockerfile,Containerfile,containerfile}*';

/**
 * Infer an image target for every project root holding a Dockerfile that
 * matches `dockerfilePatterns`.
 *
 * Nothing is cached between runs: inference reads the Dockerfile, its ignore
 * file and the project files, and a cache key would have to read the same
 * files, so a cache would only save the parsing of a few small texts.
 */
export const createNodes: CreateNodes<NxBuildkitPluginOptions> = [
  dockerfileDiscoveryGlob,
  async (files, rawOptions, context) => {
    const options = parsePluginOptions(rawOptions);
    // `dot: false`: `**` skips hidden directories, so `.devcontainer/Dockerfile` needs a pattern naming it.
    // Compiled once per call, not once per file: compiling is what costs.
    const patterns = options.dockerfilePatterns.map((p) => new Minimatch(p, { dot: false }));
    const dockerfiles = files.filter((f) => patterns.some((p) => p.match(f)));
    const roots = rootsOf(dockerfiles);
    const projects = new Map([...roots.keys()].map((root) => [root, readProjectOnDisk(context.workspaceRoot, root, options.targetName)]));
    const index = new ImageIndex([...projects.values()].map((p) => imageProject(p, options)));
    const checkImage = checkImageCommands(context.workspaceRoot);
    return createNodesFromFiles(
      (file) => inferProject(file, roots, projects, index, options, checkImage, context),
      dockerfiles,
      rawOptions ?? {},
      context,
    );
  },
];

function inferProject(
  file: string,
  roots: Map<string, string[]>,
  projects: Map<string, ProjectOnDisk>,
  index: ImageIndex,
  options: NormalizedPluginOptions,
  checkImage: CheckImageCommand,
  context: CreateNodesContext,
): CreateNodesResult {
  const root = rootOf(file);
  const siblings = roots.get(root)!;
  if (siblings.length > 1) {
    if (file !== siblings[0]) return {};
    throw new Error(
      `nx-buildkit: ${siblings.join(', ')} all match dockerfilePatterns in one project (${root}); ` +
        `a project gets one inferred "${options.targetName}" target. Narrow dockerfilePatterns, ` +
        `or exclude the extra files with the plugin entry's "exclude" and configure their targets in project.json.`,
    );
  }
  const project = projects.get(root)!;
  const dockerfileText = fs.readFileSync(path.join(context.workspaceRoot, file), 'utf8');
  const deps = findImageDependencies(dockerfileText, imageProject(project, options), index);
  const variants = optionVariants({ ...options.options, context: root, dockerfile: file }, project.targetConfigs, context.nxJsonConfiguration, {
    name: options.targetName,
    executor: imageExecutor,
    project: project.name,
  });
  const checkout = checkoutInputs(variants, root);
  return {
    projects: {
      [root]: {
        root,
        name: project.name,
        targets: {
          [options.targetName]: inferImageTarget({
            root,
            dockerfile: file,
            readInputs: readSetInputs(
              variants.map((v) => readSetOf(v, root)),
              root,
              (ctx, dockerfile) => readIgnoreFile(context.workspaceRoot, ctx, dockerfile),
              checkout.files,
            ),
            checkoutInputs: checkout.inputs,
            variants,
            dependsOnProjects: dependencyProjects(deps),
            targetName: options.targetName,
            defaults: options.options,
            registryCheck: registryCheck(checkImage, root, variants[0]!),
          }),
        },
      },
    },
  };
}

/**
 * The runtime input checking the project's pushed image: the metadata file
 * and Docker config the executor will use, as far as inference sees them
 * (project files and plugin options; a `metadataFile` set elsewhere leaves the
 * check reading a file that does not exist, i.e. checking nothing).
 */
function registryCheck(checkImage: CheckImageCommand, root: string, options: Record<string, unknown>): string {
  const metadataFile = typeof options['metadataFile'] === 'string' ? options['metadataFile'] : path.posix.join('dist/images', root, 'metadata.json');
  return checkImage(metadataFile, typeof options['dockerConfig'] === 'string' ? options['dockerConfig'] : undefined);
}

/** The project's image options as the executor will see them: project settings over plugin defaults. */
function imageProject(p: ProjectOnDisk, options: NormalizedPluginOptions): ImageProject {
  return { name: p.name, options: { ...options.options, ...p.targetOptions } };
}

/**
 * The ignore file the Dockerfile frontend applies: `<Dockerfile>.dockerignore`
 * beside the Dockerfile, else `.dockerignore` at the context root.
 */
function readIgnoreFile(workspaceRoot: string, context: string, dockerfile: string): { path: string; text: string } | undefined {
  for (const candidate of [`${dockerfile}.dockerignore`, path.posix.join(context, '.dockerignore')]) {
    const file = path.join(workspaceRoot, candidate);
    // Missing (or a directory): BuildKit goes on to the next candidate, and so do we. Asked without
    // an exception: most projects have neither file, and a thrown ENOENT costs ten times the stat.
    if (!fs.statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    try {
      return { path: candidate, text: fs.readFileSync(file, 'utf8') };
    } catch {
      // Gone or unreadable since the stat: as if missing.
    }
  }
  return undefined;
}

function rootOf(file: string): string {
  return path.posix.dirname(file);
}

/** Dockerfiles grouped by project root, each group sorted so `Dockerfile` itself comes first. */
function rootsOf(files: readonly string[]): Map<string, string[]> {
  const roots = new Map<string, string[]>();
  for (const f of files) roots.set(rootOf(f), [...(roots.get(rootOf(f)) ?? []), f]);
  const rank = (f: string) => (path.posix.basename(f) === 'Dockerfile' ? 0 : 1);
  for (const group of roots.values()) group.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return roots;
}
