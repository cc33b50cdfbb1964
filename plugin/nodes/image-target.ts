import path from 'node:path';
import type { TargetConfiguration } from '@nx/devkit';
import { isUnder, workspacePath } from '../config/read-set';
import { outputFromCsv } from '../config/buildx-csv-options';
import type { CheckoutInput } from './checkout-inputs';

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
  /** File-set inputs of everything the build reads, in every variant (see read-set-inputs.ts). */
  readInputs: readonly string[];
  /** Every set of options the target can run with (see option-variants.ts): their output files are Nx outputs. */
  variants: readonly Record<string, unknown>[];
  /** Projects whose images this Dockerfile uses. */
  dependsOnProjects: readonly string[];
  targetName: string;
  /** Plugin-level executor option defaults. */
  defaults: Record<string, unknown>;
  /** The git facts and CI variables its labels, tags and timestamps come from (see checkout-inputs.ts). */
  checkoutInputs: readonly CheckoutInput[];
  /** Command whose output tells whether the pushed image the metadata file names is still in its registry (see check-image-command.ts). */
  registryCheck: string;
}

/**
 * The inferred image target: the `nx-buildkit:image` executor on the project
 * root as context.
 *
 * Its cache key covers what decides the image (README, "What the Nx cache
 * hashes"): every directory and file the build reads under any variant of its
 * options, wherever they are (read-set-inputs.ts), the options themselves,
 * `SOURCE_DATE_EPOCH`, the builder address variables, the git facts and CI
 * variables its labels and tags come from, and the metadata files
 * of the images it builds on, so a change of a base image rebuilds its
 * dependants instead of replaying them. Last, a runtime input asks the
 * registry or engine whether the image the target's metadata file names was
 * pushed or loaded and is still there: when it is gone, the hash changes and
 * the image is built again instead of being replayed as a metadata file
 * pointing at nothing.
 */
export function inferImageTarget(input: ImageTargetInput): TargetConfiguration {
  const dockerfileName = path.posix.relative(input.root === '.' ? '' : input.root, input.dockerfile);
  const deps = [...input.dependsOnProjects];
  return {
    executor: imageExecutor,
    cache: true,
    options: { ...input.defaults, context: input.root, dockerfile: input.dockerfile },
    inputs: [
      ...input.readInputs,
      ...(deps.length > 0 ? [{ dependentTasksOutputFiles: '**/metadata.json' }] : []),
      { env: 'SOURCE_DATE_EPOCH' },
      ...builderInputs,
      ...input.checkoutInputs,
      { runtime: input.registryCheck },
    ],
    outputs: outputsOf(input.root, input.variants),
    ...(deps.length > 0 ? { dependsOn: [{ projects: deps, target: input.targetName }] } : {}),
    metadata: {
      technologies: ['docker'],
      description: `Build the image from ${dockerfileName} with BuildKit`,
    },
  };
}

/**
 * The builder a run reaches when no `builder` option names one (the option
 * itself is hashed with the other options): a result built on, or loaded
 * into, one builder is no hit on another. Addresses only, never credentials.
 */
export const builderInputs = [{ env: 'BUILDKIT_HOST' }, { env: 'DOCKER_HOST' }, { env: 'DOCKER_CONTEXT' }] as const;

/** Output types whose `dest` is a file or directory the build writes into the workspace. */
const fileOutputTypes = new Set(['tar', 'oci', 'docker', 'local']);

/**
 * The files a run writes, as Nx outputs (so a cache hit restores them, and a
 * deleted one is restored rather than reported present): the metadata file
 * and build report of every variant, and every `tar`, `oci`, `docker` and
 * `local` output destination (object or buildx string form). Paths inside the project root are written
 * `{projectRoot}/…`, others `{workspaceRoot}/…`.
 */
export function outputsOf(root: string, variants: readonly Record<string, unknown>[]): string[] {
  const anchor = (p: string) => {
    const w = workspacePath(p);
    if (root !== '.' && isUnder(root, w)) return `{projectRoot}/${path.posix.relative(root, w)}`;
    return `{workspaceRoot}/${w}`;
  };
  const out = new Set<string>();
  for (const options of variants) {
    const metadataFile = options['metadataFile'];
    if (typeof metadataFile === 'string') {
      out.add(anchor(metadataFile));
      out.add(anchor(path.posix.join(path.posix.dirname(workspacePath(metadataFile)), 'build-report.json')));
    } else {
      out.add(metadataOutput);
      out.add(buildReportOutput);
    }
    const outputs = Array.isArray(options['outputs']) ? (options['outputs'] as unknown[]) : [];
    for (const o of outputs) {
      // buildx's string form (`type=local,dest=…`) names the same files as the object form.
      const read = typeof o === 'string' ? outputFromCsv(o) : undefined;
      const entry = read ? ('value' in read ? read.value : undefined) : o && typeof o === 'object' ? (o as Record<string, unknown>) : undefined;
      if (entry && typeof entry['type'] === 'string' && fileOutputTypes.has(entry['type']) && typeof entry['dest'] === 'string') out.add(anchor(entry['dest']));
    }
  }
  return [...out];
}
