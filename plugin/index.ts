/**
 * nx-buildkit's Nx plugin: register it in `nx.json`
 * (`plugins: [{ plugin: 'nx-buildkit', options: { ... } }]`) and every project
 * with a Dockerfile gets an `image` target run by the `nx-buildkit:image`
 * executor, ordered and marked affected by the images it is built `FROM`.
 * Inference reads files only; it never talks to a builder.
 */
import { createNodes } from './nodes/create-nodes';

export { createNodes };
/** The same as {@link createNodes}, under the name Nx releases before 24 look for. */
export const createNodesV2 = createNodes;
export { createDependencies } from './nodes/create-dependencies';
export { imageExecutor, metadataOutput } from './nodes/image-target';
export { parsePluginOptions, pluginOptionsSchema, type NxBuildkitPluginOptions, type NormalizedPluginOptions } from './config/plugin-options';
export { parseImageReference, imageMatchKey, defaultImageRepository, projectImageKeys, type ImageReference } from './config/image-reference';
export { parseDockerfileReferences, type DockerfileReference, type ReferenceKind } from './dockerfile/dockerfile-references';
