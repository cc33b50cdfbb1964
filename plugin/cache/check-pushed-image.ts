import fs from 'node:fs/promises';
import type { AuthProvider } from '../buildkit/index';
import { parseImageReference } from '../metadata/index';
import { manifestStatus, type ManifestLookupOptions, type ManifestStatus } from './registry-manifest';
import { checkLoadedImage, type EngineEndpoint } from './check-loaded-image';

/** What {@link checkPushedImage} found. */
export interface PushedImageCheck {
  /**
   * The stable text Nx hashes as the target's runtime input: `ok`, or one
   * line per repository that no longer serves the digest (`missing
   * <repository>@<digest>`) or could not be asked (`unverified <repository>`).
   * It holds no times, addresses or error texts, so the same registry state
   * always gives the same hash.
   */
  value: string;
  /** Why, per repository, for people (`--explain`); never part of the hash. */
  details: string[];
}

/** How to reach the registries. */
export interface CheckOptions {
  /** Directory of the Docker config.json with credentials; default `DOCKER_CONFIG`, else `~/.docker`. */
  dockerConfigDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** Per registry request; default 5 s. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The part of the executor's metadata file this check reads. */
interface PushedMetadata {
  pushed?: unknown;
  digest?: unknown;
  imageNames?: unknown;
  insecureRegistry?: unknown;
  loaded?: unknown;
  loadedInto?: unknown;
  configDigest?: unknown;
}

/**
 * Whether the image a metadata file describes is still in its registries.
 *
 * Nx replays a cached image target by restoring its metadata file, without
 * running the executor; for a pushed image that is only right while the
 * registry still serves the digest the file names. Run as the target's
 * runtime input (before Nx computes the hash), this turns "the digest was
 * deleted" into a different hash, so Nx builds and pushes again instead of
 * restoring a file that points at nothing. A target with no metadata yet, or
 * whose image was not pushed, has nothing to check (`ok`): the same value as
 * a verified one, so that the run after the first build is a cache hit.
 *
 * Fails closed: a registry that cannot be asked (unreachable, refuses the
 * credentials, answers oddly) makes the value `unverified …`, so the target
 * runs and its push reports the actual problem.
 */
export async function checkPushedImage(metadataFile: string, options: CheckOptions = {}): Promise<PushedImageCheck> {
  let text: string;
  try {
    text = await fs.readFile(metadataFile, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { value: 'ok', details: [`${metadataFile}: no metadata yet`] };
    return { value: 'unreadable', details: [`${metadataFile}: ${(err as Error).message}`] };
  }
  let metadata: PushedMetadata;
  try {
    metadata = JSON.parse(text) as PushedMetadata;
    if (metadata === null || typeof metadata !== 'object') throw new Error('not a JSON object');
  } catch (err) {
    return { value: 'unreadable', details: [`${metadataFile}: ${(err as Error).message}`] };
  }
  if (metadata.pushed !== true && metadata.loaded !== true) return { value: 'ok', details: [`${metadataFile}: the image was neither pushed nor loaded`] };
  const [pushed, loaded] = await Promise.all([
    metadata.pushed === true ? checkPushed(metadataFile, metadata, options) : { value: 'ok', details: [] },
    metadata.loaded === true ? checkLoaded(metadataFile, metadata, options) : { value: 'ok', details: [] },
  ]);
  const values = [pushed.value, loaded.value].filter((v) => v !== 'ok');
  return { value: values.length ? values.join('\n') : 'ok', details: [...pushed.details, ...loaded.details] };
}

/**
 * A loaded image: valid while the engine it was loaded into still holds it by
 * ID (a `docker rmi` makes the next run build and load it again).
 */
async function checkLoaded(metadataFile: string, metadata: PushedMetadata, options: CheckOptions): Promise<PushedImageCheck> {
  const names = Array.isArray(metadata.imageNames) ? metadata.imageNames.filter((n): n is string => typeof n === 'string') : [];
  const endpoint = engineEndpoint(metadata.loadedInto);
  const ids = [metadata.configDigest, metadata.digest].filter((d): d is string => typeof d === 'string');
  if (!endpoint || names.length === 0 || ids.length === 0) return { value: 'unverified loaded', details: [`${metadataFile}: loaded, but no engine, image names or IDs recorded`] };
  const results = await Promise.all(names.map((name) => checkLoadedImage(endpoint, name, ids, { ...(options.timeoutMs ? { timeoutMs: options.timeoutMs } : {}) })));
  const values = results.map((r) => r.value).filter((v) => v !== 'ok');
  return { value: values.length ? values.join('\n') : 'ok', details: results.map((r) => r.detail) };
}

function engineEndpoint(value: unknown): EngineEndpoint | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  if (typeof v['socketPath'] === 'string') return { socketPath: v['socketPath'] };
  if (typeof v['host'] === 'string' && typeof v['port'] === 'number') return { host: v['host'], port: v['port'] };
  return undefined;
}

async function checkPushed(metadataFile: string, metadata: PushedMetadata, options: CheckOptions): Promise<PushedImageCheck> {
  const digest = typeof metadata.digest === 'string' ? metadata.digest : undefined;
  const names = Array.isArray(metadata.imageNames) ? metadata.imageNames.filter((n): n is string => typeof n === 'string') : [];
  if (!digest || names.length === 0) return { value: 'unverified', details: [`${metadataFile}: pushed, but no digest or image names recorded`] };

  // Tags of one repository share the manifest: one question per repository.
  const repositories = new Map<string, { registry: string; path: string }>();
  for (const name of names) {
    try {
      const ref = parseImageReference(name);
      repositories.set(ref.repository, { registry: ref.registry, path: ref.path });
    } catch (err) {
      return { value: 'unverified', details: [`${metadataFile}: ${(err as Error).message}`] };
    }
  }
  const auth = lazyAuth(options);
  const lookup: ManifestLookupOptions = {
    insecure: metadata.insecureRegistry === true,
    timeoutMs: options.timeoutMs ?? 5000,
    ...(options.signal ? { signal: options.signal } : {}),
  };
  const results = await Promise.all(
    [...repositories].sort(([a], [b]) => a.localeCompare(b)).map(async ([repository, ref]) => {
      const status = await manifestStatus({ ...ref, digest }, { ...lookup, login: () => auth(ref.registry) });
      return { repository, status };
    }),
  );
  const lines = results.flatMap(({ repository, status }) => valueLine(repository, digest, status));
  return {
    value: lines.length ? lines.join('\n') : 'ok',
    details: results.map(({ repository, status }) => `${repository}@${digest}: ${status.state}${status.state === 'unverified' ? ` (${status.reason})` : ''}`),
  };
}

function valueLine(repository: string, digest: string, status: ManifestStatus): string[] {
  if (status.state === 'present') return [];
  if (status.state === 'missing') return [`missing ${repository}@${digest}`];
  return [`unverified ${repository}`];
}

/**
 * Registry credentials from the Docker config, read only if some registry
 * asks for them. The client is loaded then too: it pulls in grpc-js and
 * protobufjs, which would double the start-up time Nx waits for on every
 * image target of every run.
 */
function lazyAuth(options: CheckOptions): (registry: string) => Promise<{ username: string; secret: string } | undefined> {
  let provider: Promise<AuthProvider> | undefined;
  return async (registry) => {
    provider ??= import('../buildkit/index').then(({ AuthProvider }) => AuthProvider.fromDockerConfig({
      ...(options.dockerConfigDir ? { configDir: options.dockerConfigDir } : {}),
      ...(options.env ? { env: options.env } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
    }));
    // The Auth protocol's host names: Docker Hub's credentials are asked for under its API host.
    return (await provider).credentials(registry === 'docker.io' ? 'registry-1.docker.io' : registry);
  };
}
