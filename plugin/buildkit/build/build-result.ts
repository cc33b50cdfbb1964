import type { FileSyncCounters } from '../attachables/filesync/file-sync-provider';
import type { VertexWarning } from '../control/types';
import type { ProgressTracker } from '../progress/progress-tracker';
import type { DockerEndpoint } from '../transport/builder-address';

/** What one build produced, as plain values. */
export interface BuildResult {
  /** Manifest (or index) digest of the image, when an image was exported. */
  digest?: string;
  /** Digest of the image config. */
  configDigest?: string;
  /** Image names the exporter used. */
  imageNames: string[];
  /** Everything the exporters answered (`containerimage.*`, `image.name`, …). */
  exporterResponse: Record<string, string>;
  /** Warnings the frontend or solver reported. */
  warnings: VertexWarning[];
  /** Steps (vertices) of the build, and how many came from cache. */
  steps: { total: number; cached: number };
  /** The solve's ref on the daemon (its build history names it). */
  ref?: string;
  /** What the build's session sent over FileSync. */
  transfer: FileSyncCounters;
  /** The build had no output: its result stays only in the daemon's build cache. */
  cacheOnly?: boolean;
  /** The Docker engine a `load` on a buildkitd streamed the image into (on a Docker engine builder: that engine, not named here). */
  loadedInto?: DockerEndpoint;
}

/** Assemble the result from the exporter response and the followed progress. */
export function buildResult(response: Record<string, string>, progress: ProgressTracker, transfer: FileSyncCounters): BuildResult {
  const vertexes = progress.vertexes;
  return {
    ...(response['containerimage.digest'] ? { digest: response['containerimage.digest'] } : {}),
    ...(response['containerimage.config.digest'] ? { configDigest: response['containerimage.config.digest'] } : {}),
    imageNames: (response['image.name'] ?? '').split(',').filter(Boolean),
    exporterResponse: { ...response },
    warnings: progress.warnings,
    steps: { total: vertexes.length, cached: vertexes.filter((v) => v.cached).length },
    transfer: { ...transfer },
  };
}
