import { BuildkitError } from '../errors';
import type { OutputTarget } from '../attachables/filesend/file-send-provider';
import type { TypedAttrs } from '../control/types';
import type { ImageAnnotation, OutputSpec } from './build-spec';

/** What kind of builder the outputs go to, as far as exporters are concerned. */
export type OutputBuilder =
  /** A standalone buildkitd: BuildKit's own exporters, no image store of its own to load into. */
  | { kind: 'buildkitd' }
  /** A Docker engine's embedded BuildKit, over the engine's image store. */
  | { kind: 'docker'; imageStore: 'classic' | 'containerd' };

/** How the outputs of a build map onto exporters and the session. */
export interface OutputPlan {
  /** Exporters in SolveRequest order (their index routes FileSend calls). */
  exporters: TypedAttrs[];
  /** FileSend targets by exporter index. */
  fileTargets: Map<number, OutputTarget>;
  /** OCI layout directories the daemon writes through the content store (`tar=false`), by exporter index. */
  layoutDirs: Map<number, string>;
  /**
   * Names the builder's Docker engine pushes from its own store after the
   * solve (`POST /images/<name>/push`), as buildx's docker driver does on the
   * classic image store, which BuildKit's `image` exporter cannot write to.
   */
  enginePushes: string[];
  /**
   * A `load` onto a builder without an image store: the exporter (`docker`,
   * or `oci` for a multi-platform image into a containerd-store engine) whose
   * tarball streams into the Docker engine's `POST /images/load`.
   */
  engineLoad?: { exporterIndex: number; format: 'docker' | 'oci' };
  /**
   * The image goes into a classic store through the `moby` exporter, whose
   * `containerimage.digest` is the engine's image ID: the config's digest.
   * BuildKit before 0.10 (Docker 20.10) reports only that, not
   * `containerimage.config.digest`.
   */
  imageIdIsConfigDigest?: true;
}

/** What planning needs besides the outputs. */
export interface OutputContext {
  builder: OutputBuilder;
  /** Target platforms of the build (more than one = an image index). */
  platforms?: readonly string[];
  /** Image store of the Docker engine a `load` on a buildkitd goes into (asked only for a multi-platform load). */
  loadEngineStore?: 'classic' | 'containerd';
  /** OCI annotations for every image-writing exporter. */
  annotations?: readonly ImageAnnotation[];
}

/** Exporter attributes of annotations (`annotation.<key>`, `annotation-index.<key>`…). */
function annotationAttrs(annotations: readonly ImageAnnotation[] | undefined): Record<string, string> {
  const attrs: Record<string, string> = {};
  for (const a of annotations ?? []) attrs[`${a.level === 'manifest' ? 'annotation' : `annotation-${a.level}`}.${a.key}`] = a.value;
  return attrs;
}

/**
 * Map outputs onto BuildKit exporters (protocol doc §7.1), the way buildx
 * does per driver:
 * - `image` + push: BuildKit's `image` exporter on buildkitd and on a
 *   containerd-store engine; on a classic-store engine the engine's `moby`
 *   exporter stores the image, and the engine pushes it afterwards.
 * - `load`: the `moby` exporter on a Docker engine (straight into its store);
 *   on a buildkitd the `docker` (or `oci`) exporter's tarball, streamed into
 *   the Docker engine beside it.
 * On a classic store every `moby` use is merged into one exporter, since
 * BuildKit before 0.13 (Docker 20.10–24) runs a single exporter per solve.
 */
export function planOutputs(outputs: readonly OutputSpec[], context: OutputContext): OutputPlan {
  const plan: OutputPlan = { exporters: [], fileTargets: new Map(), layoutDirs: new Map(), enginePushes: [] };
  const names = (list: readonly string[] | undefined): Record<string, string> => (list?.length ? { name: list.join(',') } : {});
  const multiPlatform = (context.platforms?.length ?? 0) > 1;
  const builder = context.builder;
  const classic = builder.kind === 'docker' && builder.imageStore === 'classic';
  let moby: { index: number; names: string[] } | undefined;
  const annotations = annotationAttrs(context.annotations);
  if (classic && context.annotations?.length && outputs.some((o) => o.type === 'image' || o.type === 'load')) {
    throw new BuildkitError(
      'invalid-argument',
      'annotations cannot be written by a Docker engine with the classic image store (its moby exporter has none): use a Docker engine with the containerd image store, or a standalone buildkitd',
    );
  }
  const intoMoby = (list: readonly string[]) => {
    if (!moby) {
      moby = { index: plan.exporters.length, names: [] };
      plan.exporters.push({ type: 'moby', attrs: {} });
    }
    for (const n of list) if (!moby.names.includes(n)) moby.names.push(n);
  };
  for (const out of outputs) {
    const index = plan.exporters.length;
    switch (out.type) {
      case 'image':
        if (classic) {
          if (out.push && multiPlatform) {
            throw new BuildkitError(
              'invalid-argument',
              `cannot push a multi-platform image (${context.platforms!.join(', ')}) from a Docker engine with the classic image store, which holds one platform per image: ` +
                'build one platform here, or use a Docker engine with the containerd image store, or a standalone buildkitd, to push an index',
            );
          }
          if (out.push && !out.names.length) throw new BuildkitError('invalid-argument', 'push needs at least one image name (tag)');
          intoMoby(out.names);
          if (out.push) plan.enginePushes.push(...out.names.filter((n) => !plan.enginePushes.includes(n)));
          break;
        }
        plan.exporters.push({
          type: 'image',
          attrs: {
            ...names(out.names),
            push: out.push ? 'true' : 'false',
            ...(out.insecure ? { 'registry.insecure': 'true' } : {}),
            ...annotations,
            ...out.attrs,
          },
        });
        break;
      case 'load':
        if (builder.kind === 'docker') {
          if (classic) intoMoby(out.names);
          else plan.exporters.push({ type: 'moby', attrs: { ...names(out.names) } });
          break;
        }
        if (plan.engineLoad) throw new BuildkitError('invalid-argument', 'at most one load output per build');
        if (multiPlatform && context.loadEngineStore === 'classic') {
          throw new BuildkitError(
            'invalid-argument',
            `cannot load a multi-platform image (${context.platforms!.join(', ')}) into a Docker engine with the classic image store, which holds one platform per image: ` +
              'build one platform, push the image instead, or load into a Docker engine with the containerd image store',
          );
        }
        {
          const format = multiPlatform ? 'oci' : 'docker';
          plan.exporters.push({ type: format, attrs: { ...names(out.names), ...annotations } });
          plan.engineLoad = { exporterIndex: index, format };
        }
        break;
      case 'cacheonly':
        break;
      case 'local':
        plan.exporters.push({ type: 'local', attrs: {} });
        plan.fileTargets.set(index, { kind: 'directory', dir: out.dest });
        break;
      case 'tar':
        plan.exporters.push({ type: 'tar', attrs: {} });
        plan.fileTargets.set(index, { kind: 'file', path: out.dest });
        break;
      case 'oci':
      case 'docker': {
        const asTar = out.type === 'docker' || out.tar !== false;
        plan.exporters.push({ type: out.type, attrs: { ...names(out.names), ...annotations, ...(asTar ? {} : { tar: 'false' }) } });
        if (asTar) plan.fileTargets.set(index, { kind: 'file', path: out.dest });
        else plan.layoutDirs.set(index, out.dest);
        break;
      }
    }
  }
  const merged = moby as { index: number; names: string[] } | undefined;
  if (merged) plan.exporters[merged.index] = { type: 'moby', attrs: { ...names(merged.names) } };
  if (merged && classic) plan.imageIdIsConfigDigest = true;
  if (plan.layoutDirs.size > 1) throw new BuildkitError('invalid-argument', 'at most one OCI layout directory output per build (the daemon has one export store)');
  return plan;
}
