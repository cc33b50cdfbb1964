import path from 'node:path';
import type { TargetConfiguration } from '@nx/devkit';
import { dockerignoreInputs } from './dockerignore-inputs';

/** The executor every inferred image target runs. */
export const imageExecutor = 'nx-buildkit:image';

/**
 * Where the executor writes a target's build metadata unless `metadataFile`
 * says otherwise, as an Nx output path. It is the target's only cached output:
 * dependants hash it (see {@link inferImageTarget}).
 */
export const metadataOutput = '{workspaceRoot}/dist/images/{projectRoot}/metadata.json';
/** How the build went (cache hits, warnings, bytes sent), beside the metadata; cached too, but not hashed by dependants. */
export const buildReportOutput = '{workspaceRoot}/dist/images/{projectRoot}/build-report.json';

/** What inference found for one project. */
export interface ImageTargetInput {
  /** Project root, relative to the workspace root (`.` for the root project). */
  root: string;
  /** Dockerfile path, relative to the workspace root. */
  dockerfile: string;
  /** The ignore file BuildKit will apply, if any. */
  ignoreFile?: { path: string; text: string };
  /** Projects whose images this Dockerfile uses. */
  dependsOnProjects: readonly string[];
  targetName: string;
  /** Plugin-level executor option defaults. */
  defaults: Record<string, unknown>;
  /** Command whose output tells whether the pushed image the metadata file names is still in its registry (see check-image-command.ts). */
  registryCheck: string;
}

/**
 * The inferred image target: the `nx-buildkit:image` executor on the project
 * root as context.
 *
 * Its cache key covers what decides the image: the context's files (less what
 * the ignore file keeps out of it, where that translates to Nx globs), the
 * Dockerfile, the options (build args included), `SOURCE_DATE_EPOCH`, and the
 * metadata files of the images it builds on. That input is what makes a
 * change of a base image rebuild its dependants instead of replaying them
 * from the cache. Last, a runtime input asks the registry whether a pushed
 * image the target's metadata file names still exists: when it was deleted,
 * the hash changes and the image is built and pushed again instead of being
 * replayed as a metadata file pointing at nothing.
 */
export function inferImageTarget(input: ImageTargetInput): TargetConfiguration {
  const rel = (file: string) => path.posix.relative(input.root === '.' ? '' : input.root, file);
  const dockerfileName = rel(input.dockerfile);
  const keep = [dockerfileName, ...(input.ignoreFile ? [rel(input.ignoreFile.path)] : [])];
  const negations = input.ignoreFile ? dockerignoreInputs(input.ignoreFile.text, keep) : [];
  const deps = [...input.dependsOnProjects];
  return {
    executor: imageExecutor,
    cache: true,
    options: { ...input.defaults, context: input.root, dockerfile: input.dockerfile },
    inputs: [
      '{projectRoot}/**/*',
      `{projectRoot}/${dockerfileName}`,
      ...negations,
      ...(deps.length > 0 ? [{ dependentTasksOutputFiles: '**/metadata.json' }] : []),
      { env: 'SOURCE_DATE_EPOCH' },
      { runtime: input.registryCheck },
    ],
    outputs: [metadataOutput, buildReportOutput],
    ...(deps.length > 0 ? { dependsOn: [{ projects: deps, target: input.targetName }] } : {}),
    metadata: {
      technologies: ['docker'],
      description: `Build the image from ${dockerfileName} with BuildKit`,
    },
  };
}
