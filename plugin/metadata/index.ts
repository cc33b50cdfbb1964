/**
 * Image metadata: git facts, tag templates, OCI labels and image
 * references. Plain TypeScript with no Nx or zod, so the executor and the
 * engine can both use it; the only I/O is `readGitInfo` (runs git) and
 * `readProjectMetadata` (reads manifests).
 */
export { readGitInfo, type GitInfo, type GitRepositoryInfo, type GitUnavailable, type ReadGitInfoOptions } from './git-info';
export { branchFromCiEnv, ciBranchVariables, type CiBranch, type Env } from './ci-branch';
export { ciRefFromEnv, ciRefVariables, type CiRef } from './ci-ref';
export { gitRemoteToWebUrl, stripCredentials } from './git-remote-url';
export { readProjectMetadata, projectMetadataFrom, type ProjectMetadata } from './project-metadata';
export { expandTagTemplates, type TagFlavor, type TagTemplateContext, type ExpandedTag, type DroppedTemplate, type TagExpansion } from './tag-templates';
export { ociLabels, OCI_LABEL_PREFIX, type OciLabelOptions } from './oci-labels';
export { parseImageReference, normalizeImageReference, sameRepository, isValidTag, DEFAULT_REGISTRY, type ImageReference } from './image-reference';
export { parseSemver, type SemanticVersion } from './semver';
export { sanitizeTag, MAX_TAG_LENGTH } from './sanitize-tag';
export { formatDate } from './format-date';
