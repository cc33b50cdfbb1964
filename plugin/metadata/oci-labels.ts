import type { GitInfo } from './git-info';
import type { ProjectMetadata } from './project-metadata';

/** The prefix of the OCI image annotation keys (OCI image-spec, annotations.md). */
export const OCI_LABEL_PREFIX = 'org.opencontainers.image.';

/** Inputs of {@link ociLabels}. */
export interface OciLabelOptions {
  /** From `readGitInfo`; git-derived labels are left out when it is unavailable. */
  git: GitInfo;
  /** From `readProjectMetadata`. */
  project?: ProjectMetadata;
  /** The Nx project name: the title when the manifest has no `name`. */
  projectName?: string;
  /** The image's tags in order (tags only, no names); the first is the `ref.name`. */
  tags?: readonly string[];
  /** The build time; injected (a caller honouring `SOURCE_DATE_EPOCH` passes that). */
  now: Date;
  /**
   * `now` (default, as metadata-action): `created` is the build time.
   * `commit`: the commit time, so rebuilding a commit gives identical labels.
   */
  created?: 'now' | 'commit';
  /** The vendor; default the owner in the source URL (`https://host/<owner>/repo`). */
  vendor?: string;
  /** The user's labels; they override generated ones with the same key. */
  labels?: Readonly<Record<string, string>>;
  /** `false`: generate nothing, return only the user's labels. Default `true`. */
  generate?: boolean;
}

/**
 * The image labels: generated `org.opencontainers.image.*` labels from git
 * and the project's manifest, then the user's labels on top. A generated
 * label with no value (no license, no git) is left out rather than set
 * empty. Keys come in a fixed order so the image config is stable.
 *
 * - `created`: build time (or commit time, see `created`), ISO 8601 UTC
 * - `revision`: full commit hash
 * - `source`: the manifest's `repository`, else the git `origin` web URL
 * - `url`: the manifest's `homepage`, else `source`
 * - `version`: the project version, else the git tag at HEAD
 * - `title`, `description`, `licenses`, `authors`: from the manifest (`title` falls back to the project name)
 * - `vendor`: see {@link OciLabelOptions.vendor}
 * - `ref.name`: the first tag
 */
export function ociLabels(options: OciLabelOptions): Record<string, string> {
  const generated = options.generate === false ? {} : generatedLabels(options);
  return { ...generated, ...options.labels };
}

function generatedLabels(options: OciLabelOptions): Record<string, string> {
  const git = options.git.kind === 'repository' ? options.git : undefined;
  const project = options.project ?? {};
  const created = options.created === 'commit' && git ? new Date(git.commitTime) : options.now;
  const source = project.repositoryUrl ?? git?.webUrl;
  const values: [string, string | undefined][] = [
    ['created', created.toISOString()],
    ['revision', git?.sha],
    ['source', source],
    ['url', project.homepage ?? source],
    ['version', project.version ?? git?.tag],
    ['title', project.name ?? options.projectName],
    ['description', project.description],
    ['licenses', project.license],
    ['vendor', options.vendor ?? ownerOf(source)],
    ['authors', project.authors],
    ['ref.name', options.tags?.[0]],
  ];
  const labels: Record<string, string> = {};
  for (const [key, value] of values) {
    if (value !== undefined && value !== '') labels[OCI_LABEL_PREFIX + key] = value;
  }
  return labels;
}

/** The first path segment of an http(s) repository URL: the organisation or user on every common forge. */
function ownerOf(url: string | undefined): string | undefined {
  const match = url === undefined ? null : /^https?:\/\/[^/]+\/([^/]+)\/[^/]/.exec(url);
  return match?.[1];
}
