import type { GitInfo } from '../metadata/index';

/** Where a build's `SOURCE_DATE_EPOCH` came from. */
export type SourceDateEpoch = { value: string; from: 'buildArgs' | 'env' | 'git' } | undefined;

/**
 * The `SOURCE_DATE_EPOCH` build arg of a target: the one set in its
 * `buildArgs`, else the `SOURCE_DATE_EPOCH` environment variable (as buildx
 * passes it on), else the commit time of HEAD.
 *
 * BuildKit's Dockerfile frontend (0.11+) uses it for the image config's and
 * history's `created` times, which otherwise are the build's wall-clock
 * time. With it, rebuilding unchanged sources on the same builder gives the
 * same image digest, which is what lets Nx's cache replay a pushed image's
 * metadata file after the image was pushed again (plugin/cache/). Older
 * BuildKit ignores the unused build arg. A non-numeric environment value is
 * ignored here (the frontend would reject it) in favour of the commit time.
 */
export function sourceDateEpoch(buildArgs: Readonly<Record<string, string>>, env: Readonly<Record<string, string | undefined>>, git: GitInfo): SourceDateEpoch {
  if (buildArgs['SOURCE_DATE_EPOCH'] !== undefined) return { value: buildArgs['SOURCE_DATE_EPOCH'], from: 'buildArgs' };
  const fromEnv = env['SOURCE_DATE_EPOCH']?.trim();
  if (fromEnv && /^\d+$/.test(fromEnv)) return { value: fromEnv, from: 'env' };
  if (git.kind === 'repository') return { value: String(Math.floor(Date.parse(git.commitTime) / 1000)), from: 'git' };
  return undefined;
}
