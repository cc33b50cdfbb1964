import { createHash } from 'node:crypto';
import { BuildkitError } from '../errors';
import type { LlbNode, Platform, State } from './state';
import { encodeOp } from './wire';

/** A marshaled LLB graph, ready for `SolveRequest.Definition` or `FrontendInputs`. */
export interface Definition {
  /** Serialized ops, dependencies first; the last one selects the result. */
  def: Uint8Array[];
  /** Per-op metadata keyed by the digest of the op's bytes. */
  metadata: Record<string, { description?: Record<string, string>; ignoreCache?: boolean }>;
}

/** Options that apply to the whole graph. */
export interface MarshalOptions {
  /** Platform recorded on file ops (and sources that have none); Go clients record the client's default. */
  platform?: Platform;
}

/**
 * Serialize the graph ending at `state`. Each op is encoded with Go-identical
 * deterministic bytes and identified by the SHA-256 of exactly those bytes;
 * shared sub-graphs are emitted once, dependencies before dependants, and a
 * terminal op naming the result comes last (the daemon requires it).
 */
export function marshal(state: State, options: MarshalOptions = {}): Definition {
  if (!state.output) throw new BuildkitError('invalid-argument', 'cannot marshal scratch: the graph has no op');
  const def: Uint8Array[] = [];
  const metadata: Definition['metadata'] = {};
  const digests = new Map<LlbNode, string>();
  // Distinct nodes can encode to the same bytes; emit each op once.
  const emitted = new Set<string>();

  const visit = (node: LlbNode): string => {
    const known = digests.get(node);
    if (known) return known;
    const inputs = node.inputs.map((input) => ({ digest: visit(input.node), index: String(input.index) }));
    const isFile = 'file' in node.body;
    const platform = node.platform ?? (isFile ? options.platform : undefined);
    const bytes = encodeOp({
      inputs,
      ...node.body,
      ...(platform ? { platform: wirePlatform(platform) } : {}),
      constraints: {},
    });
    const digest = digestOf(bytes);
    digests.set(node, digest);
    if (!emitted.has(digest)) {
      emitted.add(digest);
      def.push(bytes);
      // Every op gets a metadata entry, even an empty one: the frontend's
      // loader of LLB inputs rejects a definition without metadata
      // ("invalid definition op with no ops"), as Go clients always send it.
      const md = node.metadata;
      metadata[digest] = {
        ...(md?.customName ? { description: { 'llb.customname': md.customName } } : {}),
        ...(md?.ignoreCache ? { ignoreCache: true } : {}),
      };
    }
    return digest;
  };

  const result = visit(state.output.node);
  def.push(encodeOp({ inputs: [{ digest: result, index: String(state.output.index) }] }));
  return { def, metadata };
}

/** `sha256:<hex>` of exactly these bytes, as the daemon computes op digests. */
export function digestOf(bytes: Uint8Array): string {
  return 'sha256:' + createHash('sha256').update(bytes).digest('hex');
}

function wirePlatform(p: Platform): Record<string, string> {
  return { Architecture: p.architecture, OS: p.os, ...(p.variant ? { Variant: p.variant } : {}) };
}
