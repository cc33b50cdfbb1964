import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import {
  BuilderCapabilities, BuildkitError, engineApiRequest, readOciIndex,
  type BuildkitClient, type BuildResult, type BuildSpec, type NamedContext, type OutputSpec,
} from '../../buildkit/index';
import { parseImageReference } from '../../config/image-reference';
import type { ImageTarget } from '../image-target';
import { isLinkReference, linkReference, newLinkRunId } from './link-reference';
import { namedContextKey } from './named-context-key';
import type { ImageLink } from './plan-links';
import { rewriteReferences } from './rewrite-references';

/** How a dependant reached its base's result. */
export interface LinkReport {
  from: string;
  to: string;
  /**
   * `daemon`: the engine's image store under a run-only name; `layout`: an
   * OCI layout the run owns, read through the session content store (a
   * builder without image store); `pushed`: the digest the base pushed.
   */
  via: 'daemon' | 'layout' | 'pushed';
  /** How the dependant's build named the image. */
  reference: string;
  /** `named-context` (Dockerfile frontend ≥ 1.4) or `rewritten` (older frontends: the served Dockerfile names the link). */
  mechanism: 'named-context' | 'rewritten';
}

/** What removing the run's link names from the engine (and its link layouts from disk) did. */
export interface LinkCleanup {
  removed: string[];
  /** Names that could not be removed, with the reason (left for `docker image rm`). */
  failed: string[];
}

/**
 * The image→image links of one run (see plan-links.ts). On a Docker engine
 * a target that others are built FROM additionally exports its result into
 * the engine's own image store (the `moby` exporter, no tar through the
 * client, no registry) under a name only this run uses
 * (`nx-buildkit-link/<target>:<run id>`); each dependant's build then reads
 * exactly that image: through `context:<name>=docker-image://<link>`
 * attributes where the frontend has named contexts, else through a served
 * copy of its Dockerfile whose references name the link. The engine resolves
 * such a name from its local store before any registry. The names are
 * removed again when the run ends, whatever its outcome.
 *
 * A standalone buildkitd has no image store a later build can read from. A
 * base that pushes gives its dependants the digest it pushed in this run;
 * any other base also exports its result as an OCI layout into a directory
 * this run creates (under the system temp dir, one per base), and the
 * dependant reads it as an `oci-layout://` named context served by its own
 * session's content store: no registry, exactly this run's result. The
 * directories are removed when the run ends. A daemon whose frontend lacks
 * named contexts (BuildKit < 0.10) cannot read a layout: there the dependant
 * fails naming the base and asking for a push.
 */
export class ImageLinks {
  private readonly isDocker: boolean;
  private readonly linkNames = new Map<string, string>();
  private readonly results = new Map<string, BuildResult>();
  private readonly reports = new Map<string, LinkReport>();
  private readonly byId: Map<string, ImageTarget>;
  private readonly runId: string;
  /** The run's own directory for link layouts, made on first use. */
  private layoutRoot?: Promise<string>;

  constructor(
    private readonly client: BuildkitClient,
    targets: readonly ImageTarget[],
    private readonly links: readonly ImageLink[],
    private readonly dockerfiles: ReadonlyMap<string, string>,
    runId: string = newLinkRunId(),
    /** The run's knowledge of the builder (named contexts); default: probed by these links alone. */
    private readonly capabilities: BuilderCapabilities = new BuilderCapabilities(client),
  ) {
    this.isDocker = client.address.kind === 'docker';
    this.runId = runId;
    this.byId = new Map(targets.map((t) => [t.id, t]));
    for (const l of links) if (!this.linkNames.has(l.to)) this.linkNames.set(l.to, linkReference(l.to, runId));
  }

  /** How each link was used so far. */
  report(): LinkReport[] {
    return [...this.reports.values()];
  }

  /**
   * The spec to build for `target`: with the link export added when others
   * are built FROM it, with its references pointed at the linked results
   * when it is built FROM others. Fails, naming the base, when a base's
   * result cannot be reached.
   */
  async specFor(target: ImageTarget, spec: BuildSpec, signal?: AbortSignal): Promise<BuildSpec> {
    let out = spec;
    const name = this.linkNames.get(target.id);
    if (name && this.inDaemon(target.id)) out = { ...out, outputs: withLinkExport(out.outputs ?? [], name) };
    if (name && this.inLayout(target.id)) out = { ...out, outputs: [...withoutCacheOnly(out.outputs ?? []), { type: 'oci', dest: await this.layoutDir(target.id), tar: false, names: [name] }] };
    const mine = this.links.filter((l) => l.from === target.id);
    if (mine.length === 0) return out;
    const namedContexts: Record<string, NamedContext> = { ...out.namedContexts };
    let text: string | undefined;
    // Every base is checked first: a missing one fails before the daemon is probed.
    const resolved = [];
    for (const link of mine) resolved.push({ link, ...(await this.resolve(link, spec, signal)) });
    const named = await this.capabilities.namedContexts(signal);
    for (const { link, reference, via, context } of resolved) {
      if (via === 'layout' && !named) {
        throw new BuildkitError(
          'failed-precondition',
          `${describeRefs(link)} is built by ${link.to} in this run, but the builder ${this.client.address.display} has neither an image store nor named contexts (BuildKit < 0.10) to read its result from: set "push": true on ${link.to} (this target then uses exactly the digest it pushed)`,
        );
      }
      for (const n of link.namedContexts) namedContexts[n] = context;
      if (named) {
        for (const ref of link.refs) namedContexts[namedContextKey(ref.ref) ?? ref.ref] = context;
      } else if (link.refs.length) {
        text = rewriteReferences(text ?? this.dockerfileOf(target), link.refs, reference);
      }
      this.reports.set(`${link.from}\u0000${link.to}`, { from: link.from, to: link.to, via, reference, mechanism: named ? 'named-context' : 'rewritten' });
    }
    return { ...out, namedContexts, ...(text !== undefined ? { dockerfileText: text } : {}) };
  }

  /**
   * BuildKit before 0.13 (Docker 20.10) runs only the first exporter of a
   * build and ignores the rest. When the link export had to sit beside
   * other outputs, check that the engine has it; if not, export it by
   * solving the same build again with the link as its only output. Every
   * step is then a cache hit of the build that just ran (`noCache` and
   * `pull` are off for that solve, so nothing is run or resolved anew), so
   * the linked image is exactly that build's result.
   */
  async ensureExported(target: ImageTarget, spec: BuildSpec, build: (spec: BuildSpec) => Promise<unknown>, signal?: AbortSignal): Promise<void> {
    const name = this.linkNames.get(target.id);
    if (!name || (spec.outputs ?? []).length <= 1) return;
    const again = (output: OutputSpec) => build({ ...spec, noCache: false, pull: false, cacheTo: [], outputs: [output] });
    if (this.inDaemon(target.id) && !(await this.inEngine(name, signal))) await again({ type: 'load', names: [name] });
    if (this.inLayout(target.id) && !(await this.layoutHas(target.id))) await again({ type: 'oci', dest: await this.layoutDir(target.id), tar: false, names: [name] });
  }

  /** Remember a target's result (dependants of a base that pushes use its pushed digest) and hide link names from it. */
  recordResult(id: string, result: BuildResult): BuildResult {
    const clean = (list: string) => list.split(',').filter((n) => n && !isLinkReference(n)).join(',');
    const response = { ...result.exporterResponse };
    if (response['image.name'] !== undefined) {
      response['image.name'] = clean(response['image.name']);
      if (!response['image.name']) delete response['image.name'];
    }
    const visible = { ...result, imageNames: result.imageNames.filter((n) => !isLinkReference(n)), exporterResponse: response };
    this.results.set(id, visible);
    return visible;
  }

  /**
   * Remove every link name of the run from the engine (an untag: images
   * that also carry user names stay). Not tied to the run's signal, so an
   * aborted run still cleans up; a name that is not there (its target
   * failed or never ran) counts as removed.
   */
  async cleanup(): Promise<LinkCleanup> {
    const result: LinkCleanup = { removed: [], failed: [] };
    if (this.layoutRoot) {
      const root = await this.layoutRoot.catch(() => undefined);
      this.layoutRoot = undefined;
      if (root) {
        await fs.rm(root, { recursive: true, force: true }).then(
          () => result.removed.push(root),
          (err: Error) => result.failed.push(`${root}: ${err.message}`),
        );
      }
    }
    if (!this.isDocker || this.client.address.kind !== 'docker') return result;
    const endpoint = this.client.address.endpoint;
    await Promise.all(
      [...this.linkNames.values()].map(async (name) => {
        try {
          const answer = await engineApiRequest(endpoint, 'DELETE', `/images/${encodeURIComponent(name)}`, { timeoutMs: 10_000 });
          if (answer.status === 200 || answer.status === 404) result.removed.push(name);
          else result.failed.push(`${name}: HTTP ${answer.status} ${answer.body.trim().slice(0, 200)}`);
        } catch (err) {
          result.failed.push(`${name}: ${(err as Error).message}`);
        }
      }),
    );
    return result;
  }

  /** The image the dependant's build must read for `link`, checked to be there. */
  private async resolve(link: ImageLink, spec: BuildSpec, signal?: AbortSignal): Promise<{ reference: string; via: LinkReport['via']; context: NamedContext }> {
    const what = describeRefs(link);
    if (this.inDaemon(link.to)) {
      const name = this.linkNames.get(link.to)!;
      if (spec.pull) {
        throw new BuildkitError('invalid-argument', `${what} is built by ${link.to} in this run and linked inside the Docker engine, but "pull" makes the daemon fetch every image from its registry: turn "pull" off for this target`);
      }
      if (await this.inEngine(name, signal)) return { reference: name, via: 'daemon', context: { kind: 'image', ref: name } };
      throw new BuildkitError('failed-precondition', `${what} is built by ${link.to} in this run, but its result is not in the Docker engine's image store under its link name ${name}`);
    }
    if (this.inLayout(link.to)) {
      const dir = await this.layoutDir(link.to);
      if (await this.layoutHas(link.to)) return { reference: `oci-layout://${dir}:${this.runId}`, via: 'layout', context: { kind: 'oci-layout', dir, tag: this.runId } };
      throw new BuildkitError('failed-precondition', `${what} is built by ${link.to} in this run, but its result is not in the run's OCI layout ${dir}`);
    }
    const base = this.byId.get(link.to);
    const pushed = pushOutput(base);
    const digest = this.results.get(link.to)?.digest;
    const repository = pushed?.names[0] ? stripTag(pushed.names[0]) : undefined;
    if (pushed && digest && repository) return { reference: `${repository}@${digest}`, via: 'pushed', context: { kind: 'image', ref: `${repository}@${digest}` } };
    const why = this.isDocker
      ? `it builds for several platforms, which a Docker engine's classic image store cannot hold as one image (so it is never linked there)`
      : `the builder ${this.client.address.display} is not a Docker engine, so it has no image store to link ${link.to}'s result in`;
    throw new BuildkitError(
      'failed-precondition',
      `${what} is built by ${link.to} in this run, but ${why}: set "push": true on ${link.to} (this target then uses exactly the digest it pushed)` +
        (this.isDocker ? '' : ', or build on a Docker engine'),
    );
  }

  /**
   * Whether `id`'s result is linked inside the engine: on a Docker engine,
   * for a single-platform build (the moby exporter cannot store a
   * multi-platform image on the classic store, and adding it would fail the
   * base's own build); otherwise dependants use the base's pushed digest.
   */
  private inDaemon(id: string): boolean {
    return this.isDocker && (this.byId.get(id)?.spec.platforms?.length ?? 0) <= 1;
  }

  /** Whether `id`'s result reaches its dependants as an OCI layout of the run: on a builder without image store, for a base that pushes nothing. */
  private inLayout(id: string): boolean {
    return !this.isDocker && this.linkNames.has(id) && pushOutput(this.byId.get(id)) === undefined;
  }

  /** The directory of `id`'s link layout (the run's directory is made on first use). */
  private async layoutDir(id: string): Promise<string> {
    this.layoutRoot ??= fs.mkdtemp(path.join(os.tmpdir(), 'nx-buildkit-links-'));
    return path.join(await this.layoutRoot, this.linkNames.get(id)!.slice(this.linkNames.get(id)!.indexOf('/') + 1).replace(/:.*$/, ''));
  }

  /** Whether `id`'s link layout holds its result of this run. */
  private async layoutHas(id: string): Promise<boolean> {
    const index = await readOciIndex(await this.layoutDir(id)).catch(() => undefined);
    return index?.manifests.some((m) => m.annotations?.['org.opencontainers.image.ref.name'] === this.runId) ?? false;
  }

  /** Whether the builder's engine has an image of that name (`GET /images/<name>/json`). */
  private async inEngine(name: string, signal?: AbortSignal): Promise<boolean> {
    if (this.client.address.kind !== 'docker') return false;
    const answer = await engineApiRequest(this.client.address.endpoint, 'GET', `/images/${encodeURIComponent(name)}/json`, { signal });
    if (answer.status === 200) return true;
    if (answer.status === 404) return false;
    throw new BuildkitError('unavailable', `asking the Docker engine for image ${name}: HTTP ${answer.status} ${answer.body.trim().slice(0, 200)}`);
  }

  private dockerfileOf(target: ImageTarget): string {
    const text = target.spec.dockerfileText ?? this.dockerfiles.get(target.id);
    if (text === undefined) throw new BuildkitError('not-found', `Dockerfile ${target.spec.dockerfile} cannot be read`);
    return text;
  }
}

/** The outputs with the run's link name added: into an existing `load` (one exporter, as old daemons need), else as a `load` of its own. */
function withLinkExport(given: readonly OutputSpec[], name: string): OutputSpec[] {
  const outputs = withoutCacheOnly(given);
  const load = outputs.findIndex((o) => o.type === 'load');
  if (load < 0) return [...outputs, { type: 'load', names: [name] }];
  return outputs.map((o, i) => (i === load && o.type === 'load' ? { ...o, names: [...o.names, name] } : o));
}

/** `cacheonly` says "export nothing": a link export added beside it replaces it. */
function withoutCacheOnly(outputs: readonly OutputSpec[]): OutputSpec[] {
  return outputs.filter((o) => o.type !== 'cacheonly');
}

/** The base's pushed image output, if it has one. */
function pushOutput(target: ImageTarget | undefined): Extract<OutputSpec, { type: 'image' }> | undefined {
  return target?.spec.outputs?.find((o): o is Extract<OutputSpec, { type: 'image' }> => o.type === 'image' && o.push === true);
}

/** `registry/repo:tag` → `registry/repo` (a digest reference must not carry the tag of another build). */
function stripTag(name: string): string | undefined {
  const parsed = parseImageReference(name);
  if (!parsed) return undefined;
  const at = name.indexOf('@');
  const base = at >= 0 ? name.slice(0, at) : name;
  const colon = base.lastIndexOf(':');
  return colon > base.lastIndexOf('/') ? base.slice(0, colon) : base;
}

function describeRefs(link: ImageLink): string {
  const refs = [...new Set([...link.refs.map((r) => r.ref), ...link.namedContexts])];
  return `"${refs.join('", "')}"`;
}
