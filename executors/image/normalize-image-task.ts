import path from 'node:path';
import type { BuildSpec, ImageAnnotation, NamedContext, OutputSpec } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import type { ImageExecutorOptions } from '../../plugin/config/executor-options';
import { InvalidOptionsError } from '../../plugin/config/executor-options';
import { defaultImageRepository } from '../../plugin/config/image-reference';
import { parseNamedContextValue } from '../../plugin/config/named-context-value';

/** What normalization needs to know about the task's project. */
export interface ProjectInfo {
  project: string;
  target: string;
  /** Project root relative to the workspace root. */
  projectRoot: string;
  workspaceRoot: string;
}

/** The image repository of a project: `imageName`, else the project name made valid. */
export function imageRepository(options: ImageExecutorOptions, project: string): string {
  return options.imageName ?? defaultImageRepository(project);
}

/** A normalized image task: the engine's target plus what the executor needs after the build. */
export interface NormalizedImageTask {
  target: ImageTarget;
  /** Fully qualified image names (`repo:tag`). */
  imageNames: string[];
  metadataFile: string;
  options: ImageExecutorOptions;
}

/**
 * Turn validated options into complete absolute-path values: the build spec
 * the engine runs and the files the executor writes. Nothing downstream
 * handles undefined options or relative paths.
 */
export function normalizeImageTask(
  options: ImageExecutorOptions,
  info: ProjectInfo,
  dependsOn: readonly string[],
  resolved: {
    imageNames: readonly string[];
    labels: Readonly<Record<string, string>>;
    sourceDateEpoch?: string;
    /** The image a `target:<project>[:<target>]` named context stands for: the first image name of that task of the run. */
    imageOfTask?: (task: string) => string | undefined;
  },
): NormalizedImageTask {
  const ws = (p: string) => path.resolve(info.workspaceRoot, p);
  const contextDir = ws(options.context ?? info.projectRoot);
  const dockerfile = options.dockerfile ? ws(options.dockerfile) : path.join(contextDir, 'Dockerfile');
  const imageNames = [...resolved.imageNames];
  const outputs: OutputSpec[] = options.outputs.map((o) => (o.type === 'cacheonly' ? o : { ...o, dest: ws(o.dest) }));
  if (options.push) outputs.unshift({ type: 'image', names: imageNames, push: true, insecure: options.insecureRegistry });
  if (options.load) outputs.push({ type: 'load', names: imageNames });
  const id = `${info.project}:${info.target}`;
  const spec: BuildSpec = {
    name: info.project,
    contextDir,
    dockerfile,
    ...(options.target ? { target: options.target } : {}),
    buildArgs: resolved.sourceDateEpoch === undefined ? options.buildArgs : { ...options.buildArgs, SOURCE_DATE_EPOCH: resolved.sourceDateEpoch },
    labels: { ...resolved.labels },
    platforms: options.platforms,
    namedContexts: Object.fromEntries(Object.entries(options.namedContexts).map(([name, value]) => [name, namedContext(value, ws, `${id}: option "namedContexts.${name}"`, resolved.imageOfTask)])),
    noCache: options.noCache || (options.noCacheFilter.length ? options.noCacheFilter : false),
    ...(options.shmSize !== undefined ? { shmSize: bytes(options.shmSize) } : {}),
    ...(options.ulimits.length ? { ulimits: options.ulimits } : {}),
    ...(options.cgroupParent ? { cgroupParent: options.cgroupParent } : {}),
    ...(options.allow.length ? { entitlements: options.allow } : {}),
    ...(options.provenance !== 'false' ? { provenance: options.provenance } : {}),
    ...(options.sbom === false ? {} : { sbom: options.sbom === true ? {} : options.sbom }),
    ...(options.annotations.length ? { annotations: options.annotations.map(annotation) } : {}),
    pull: options.pull,
    network: options.network,
    extraHosts: options.extraHosts,
    secrets: options.secrets.map((s) => (s.file ? { id: s.id, file: ws(s.file) } : { id: s.id, env: s.env! })),
    ssh: options.ssh.map((s) => ({ id: s.id, paths: s.paths.map(ws) })),
    auth: { ...(options.dockerConfig ? { configDir: ws(options.dockerConfig) } : {}), helperTimeoutMs: options.credentialHelperTimeoutMs },
    outputs,
    cacheFrom: options.cacheFrom,
    cacheTo: options.cacheTo,
  };
  return {
    target: { id, spec, dependsOn, contextPolicy: options.sessionPolicy.context, imageNames },
    imageNames,
    metadataFile: ws(options.metadataFile ?? path.join('dist', 'images', info.projectRoot, 'metadata.json')),
    options,
  };
}

/**
 * `target:<project>[:<target>]` (buildx bake's form) names another image task
 * of the run: it becomes that task's image, which the engine then links in
 * the daemon to exactly what that task builds in this run (plugin/engine/links/).
 */
function namedContext(value: string, ws: (p: string) => string, where: string, imageOfTask?: (task: string) => string | undefined): NamedContext {
  const parsed = parseNamedContextValue(value);
  if (!parsed) throw new InvalidOptionsError([`${where}: "${value}" must start with docker-image://, local:, oci-layout:// or target:`]);
  switch (parsed.kind) {
    case 'target': {
      const image = parsed.task ? imageOfTask?.(parsed.task) : undefined;
      if (!image) throw new InvalidOptionsError([`${where}: "${value}" names no image task of this run (expected target:<project> or target:<project>:<target> of a task run with this one)`]);
      return { kind: 'image', ref: image };
    }
    case 'image':
      return parsed;
    case 'local':
      return { kind: 'local', dir: ws(parsed.path) };
    case 'oci-layout':
      return { kind: 'oci-layout', dir: ws(parsed.path), ...(parsed.tag ? { tag: parsed.tag } : {}) };
  }
}

/** `128m`, `1g`, `512k`, `1024` → bytes (powers of 1024, as Docker reads sizes). */
function bytes(size: string): number {
  const m = /^(\d+)([bkmg])?b?$/i.exec(size)!;
  const unit = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] ?? 'b').toLowerCase() as 'b' | 'k' | 'm' | 'g'];
  return Number(m[1]) * unit;
}

/** `[level:]key=value` (validated by the schema) → an annotation; manifest level by default. */
function annotation(text: string): ImageAnnotation {
  const m = /^(?:(manifest|index|manifest-descriptor|index-descriptor):)?([^=]+)=(.*)$/s.exec(text)!;
  return { level: (m[1] ?? 'manifest') as ImageAnnotation['level'], key: m[2]!, value: m[3]! };
}
