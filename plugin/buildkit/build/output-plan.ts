import { BuildkitError } from '../errors';
import type { OutputTarget } from '../attachables/filesend/file-send-provider';
import type { TypedAttrs } from '../control/types';
import type { OutputSpec } from './build-spec';

/** How the outputs of a build map onto exporters and the session. */
export interface OutputPlan {
  /** Exporters in SolveRequest order (their index routes FileSend calls). */
  exporters: TypedAttrs[];
  /** FileSend targets by exporter index. */
  fileTargets: Map<number, OutputTarget>;
  /** OCI layout directories the daemon writes through the content store (`tar=false`), by exporter index. */
  layoutDirs: Map<number, string>;
}

/**
 * Map outputs onto BuildKit exporters (protocol doc §7.1). `image` + push is
 * BuildKit's `image` exporter; `load` into a Docker engine is its `moby`
 * exporter, which writes straight into the engine's image store.
 */
export function planOutputs(outputs: readonly OutputSpec[], builder: { isDockerEngine: boolean }): OutputPlan {
  const plan: OutputPlan = { exporters: [], fileTargets: new Map(), layoutDirs: new Map() };
  const names = (list: readonly string[] | undefined): Record<string, string> => (list?.length ? { name: list.join(',') } : {});
  for (const out of outputs) {
    const index = plan.exporters.length;
    switch (out.type) {
      case 'image':
        plan.exporters.push({
          type: 'image',
          attrs: {
            ...names(out.names),
            push: out.push ? 'true' : 'false',
            ...(out.insecure ? { 'registry.insecure': 'true' } : {}),
            ...out.attrs,
          },
        });
        break;
      case 'load':
        if (!builder.isDockerEngine) {
          throw new BuildkitError('invalid-argument', 'load needs a Docker engine as the builder (its image store receives the image)');
        }
        plan.exporters.push({ type: 'moby', attrs: { ...names(out.names) } });
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
        plan.exporters.push({ type: out.type, attrs: { ...names(out.names), ...(asTar ? {} : { tar: 'false' }) } });
        if (asTar) plan.fileTargets.set(index, { kind: 'file', path: out.dest });
        else plan.layoutDirs.set(index, out.dest);
        break;
      }
    }
  }
  if (plan.layoutDirs.size > 1) throw new BuildkitError('invalid-argument', 'at most one OCI layout directory output per build (the daemon has one export store)');
  return plan;
}
