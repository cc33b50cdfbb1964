import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { AuthProvider } from '../attachables/auth/auth-provider';
import { ContentStoreProvider, storeIds } from '../attachables/content/content-store-provider';
import { resolveLocalCacheImport, writeLocalCacheIndex } from '../attachables/content/local-cache';
import { findByTag, readOciIndex } from '../attachables/content/oci-index';
import { writeOciLayoutIndex } from '../attachables/content/oci-layout-index';
import { FileSendProvider, type OutputTarget } from '../attachables/filesend/file-send-provider';
import { FileSyncProvider, type SyncedDir } from '../attachables/filesync/file-sync-provider';
import { readDockerignore } from '../attachables/filesync/patterns/ignore-file';
import { SecretsProvider } from '../attachables/secrets/secrets-provider';
import { SshProvider } from '../attachables/ssh/ssh-provider';
import type { BuildkitClient } from '../client';
import type { SolveStatus, TypedAttrs } from '../control/types';
import { BuildkitError } from '../errors';
import { ProgressTracker } from '../progress/progress-tracker';
import type { Attachable } from '../session/attachable';
import type { BuildSpec } from './build-spec';
import type { ContextSource } from './context-source';
import { buildResult, type BuildResult } from './build-result';
import { validateCacheSpecs } from './cache-specs';
import { defaultSbomGenerator, explainFailure } from './explain-failure';
import { explainNonAsciiFilter } from './explain-non-ascii-filter';
import { escapesFilterHeaders } from './filter-header-escaping';
import { hasNonAsciiFilters, planFilterHeaders, type FilterHeaderPlan, type FrontendFilters } from './non-ascii-filters';
import { marshal } from '../llb/marshal';
import { State } from '../llb/state';
import { dockerfileFrontendAttrs, type LocalNames } from './frontend-attrs';
import { overrideDockerfile } from './dockerfile-override';
import { BuilderCapabilities } from '../capabilities/builder-capabilities';
import { planOutputs, type OutputBuilder, type OutputPlan } from './output-plan';
import { findLoadEngine, loadIntoEngine, type LoadEngine } from './engine-load';
import { pushThroughEngine } from './engine-push';
import { randomId } from '../random-id';

type EngineLoad = ReturnType<typeof loadIntoEngine>;

/** Options of one build. */
export interface BuildOptions {
  /** Where context and Dockerfile come from (default: this build's own session). */
  contextSource?: ContextSource;
  /** Every Status message of the solve, as plain values. */
  onStatus?: (status: SolveStatus) => void;
  signal?: AbortSignal;
  /**
   * When given, the build's session is not closed when the solve ends: it is
   * handed over with a function that closes it, once the solve has ended
   * (also when it failed). The multi-target engine keeps a session open
   * while another running solve may still ask it for registry credentials
   * (the daemon merges identical pulls of concurrent builds).
   */
  holdSession?: (close: () => Promise<void>) => void;
  /** What is known about the builder (a run shares one); default: probed for this build alone, when needed. */
  capabilities?: BuilderCapabilities;
}

/**
 * Build one Dockerfile with the built-in `dockerfile.v0` frontend, through a
 * session of its own that serves exactly this build's directories, secrets,
 * SSH agents, registry credentials and outputs. Sources that cannot be read
 * (secrets, SSH keys, OCI layouts, local caches), invalid cache entries and
 * named contexts the daemon's frontend does not know fail before the solve
 * starts. Failures are BuildkitErrors whose `target` is the spec's name; a failed
 * step's last output lines are quoted in the message.
 */
export async function buildImage(client: BuildkitClient, spec: BuildSpec, options: BuildOptions = {}): Promise<BuildResult> {
  const progress = new ProgressTracker();
  let load: EngineLoad | undefined;
  try {
    validateCacheSpecs(spec);
    const outputs = await planBuildOutputs(client, spec, options.signal);
    await requireNamedContextSupport(options.capabilities ?? new BuilderCapabilities(client), spec, options.signal);
    const given = options.contextSource ?? { kind: 'own-session' };
    const headers = await filterHeaderPlan(client, spec, given, options.signal);
    await using override = await overrideDockerfile(spec, given);
    if (outputs.plan.engineLoad) load = loadIntoEngine(outputs.loadEngine!, options.signal);
    const prepared = await prepareSession(spec, outputs.plan, override.source, options.signal, override.dockerfileDir, load?.target, headers);
    const session = await client.openSession({ attachables: prepared.attachables, sharedKey: spec.sharedKey ?? '', signal: options.signal });
    const source = headers.contextAsInputs ? ownSessionInputs(spec, session.id) : override.source;
    await using _closeSession = {
      [Symbol.asyncDispose]: async () => {
        if (options.holdSession) options.holdSession(() => session.close());
        else await session.close();
      },
    };
    // Our own ref, so the result can name its build (buildx's `buildx.build.ref`).
    const ref = randomId();
    const response = await client.solve(
      {
        ref,
        session: session.id,
        frontend: 'dockerfile.v0',
        frontendAttrs: { ...dockerfileFrontendAttrs(spec, prepared.locals), ...contextAttrs(source, override.dockerfileDir !== undefined) },
        ...(source.kind === 'frontend-inputs' ? { frontendInputs: { context: source.context, dockerfile: source.dockerfile } } : {}),
        exporters: outputs.plan.exporters,
        cacheImports: prepared.cacheImports,
        cacheExports: prepared.cacheExports,
        entitlements: [...new Set([...(spec.network === 'host' ? ['network.host'] : []), ...(spec.entitlements ?? [])])],
      },
      {
        signal: options.signal,
        onStatus: (s) => {
          progress.update(s);
          options.onStatus?.(s);
        },
      },
    );
    await load?.done;
    await finishOutputs(spec, outputs.plan, response.exporterResponse, options.signal);
    const result: BuildResult = { ...buildResult(response.exporterResponse, progress, prepared.fileSync.counters), ref, cacheOnly: outputs.plan.exporters.length === 0, ...(load ? { loadedInto: outputs.loadEngine!.endpoint } : {}) };
    if (outputs.plan.imageIdIsConfigDigest && !result.configDigest && result.digest) result.configDigest = result.digest;
    return await pushFromEngine(client, outputs.plan, result, prepared.auth, options.signal);
  } catch (err) {
    // When the engine refused the tarball, the transfer broke off: the engine's own words say why.
    let error = await explainNonAsciiFilter(BuildkitError.from(err), spec);
    if (load) {
      load.abort(error);
      const refused = await load.done.then(() => undefined, (e: unknown) => BuildkitError.from(e));
      if (refused && refused !== error) error = refused;
    }
    const sbomGenerator = spec.sbom ? { sbomGenerator: spec.sbom.generator ?? defaultSbomGenerator } : {};
    throw explainFailure(error, { platforms: spec.platforms, progress, ...sbomGenerator }).forTarget(spec.name);
  }
}

/** The exporters for the builder at hand, and the engine a load on a buildkitd goes into. */
async function planBuildOutputs(client: BuildkitClient, spec: BuildSpec, signal?: AbortSignal): Promise<{ plan: OutputPlan; loadEngine?: LoadEngine }> {
  const outputs = spec.outputs ?? [];
  const store = outputs.some((o) => o.type === 'image' || o.type === 'load') ? await client.imageStore({ signal }) : undefined;
  const builder: OutputBuilder = client.address.kind === 'docker' ? { kind: 'docker', imageStore: store ?? 'classic' } : { kind: 'buildkitd' };
  const loadEngine = builder.kind === 'buildkitd' && outputs.some((o) => o.type === 'load') ? await findLoadEngine(process.env, signal) : undefined;
  const attestation = spec.provenance ? 'a provenance attestation' : spec.sbom ? 'an SBOM attestation (option "sbom")' : undefined;
  if (attestation && builder.kind === 'docker' && builder.imageStore === 'classic' && outputs.some((o) => o.type === 'image' || o.type === 'load')) {
    throw new BuildkitError(
      'invalid-argument',
      `${attestation} cannot be stored by a Docker engine with the classic image store (one image per platform, no index): use a Docker engine with the containerd image store, or a standalone buildkitd`,
    );
  }
  const plan = planOutputs(outputs, {
    builder,
    ...(spec.platforms ? { platforms: spec.platforms } : {}),
    ...(loadEngine ? { loadEngineStore: loadEngine.imageStore } : {}),
    ...(spec.annotations ? { annotations: spec.annotations } : {}),
  });
  return { plan, ...(loadEngine ? { loadEngine } : {}) };
}

/**
 * On a classic-store engine the image is pushed by the engine after the
 * solve; the result then reports the registry's manifest digest, as buildx
 * does (the moby exporter's `containerimage.digest`, the local image ID, is
 * already the result's config digest: see `imageIdIsConfigDigest`).
 */
async function pushFromEngine(client: BuildkitClient, plan: OutputPlan, result: BuildResult, auth: AuthProvider | undefined, signal?: AbortSignal): Promise<BuildResult> {
  if (!plan.enginePushes.length || client.address.kind !== 'docker') return result;
  let digest: string | undefined;
  for (const name of plan.enginePushes) {
    const pushed = await pushThroughEngine(client.address.endpoint, name, auth, signal);
    digest ??= pushed;
  }
  return { ...result, digest, exporterResponse: { ...result.exporterResponse, 'containerimage.digest': digest! } };
}

interface PreparedSession {
  attachables: Attachable[];
  /** The registry credentials this build's session serves (also used for a push through the engine). */
  auth?: AuthProvider;
  fileSync: FileSyncProvider;
  locals: LocalNames;
  cacheImports: TypedAttrs[];
  cacheExports: TypedAttrs[];
}

/**
 * Named contexts on a frontend older than 1.4 would be looked up as images in
 * a registry (see probeNamedContexts): refuse before anything is sent.
 */
async function requireNamedContextSupport(capabilities: BuilderCapabilities, spec: BuildSpec, signal?: AbortSignal): Promise<void> {
  const names = Object.keys(spec.namedContexts ?? {});
  // shm-size, ulimit and cgroup-parent came with the same frontend generation (1.4); older ones ignore them silently.
  const resources = [spec.shmSize !== undefined && 'shmSize', spec.ulimits?.length && 'ulimits', spec.cgroupParent && 'cgroupParent'].filter((x): x is string => typeof x === 'string');
  if ((!names.length && !resources.length) || (await capabilities.namedContexts(signal))) return;
  if (resources.length) {
    throw new BuildkitError(
      'failed-precondition',
      `${resources.join(', ')} need${resources.length === 1 ? 's' : ''} Dockerfile frontend 1.4 or later (BuildKit 0.10, Docker Engine 23.0); this builder's built-in frontend would ignore ${resources.length === 1 ? 'it' : 'them'}`,
    );
  }
  throw new BuildkitError(
    'failed-precondition',
    `named contexts (${names.map((n) => `"${n}"`).join(', ')}) need Dockerfile frontend 1.4 or later (BuildKit 0.10, Docker Engine 23.0); ` +
      "this builder's built-in frontend would look them up as images in a registry",
  );
}

/** Build the session's attachables; every source is read and checked here, before any solve. */
async function prepareSession(
  spec: BuildSpec,
  outputs: OutputPlan,
  source: ContextSource,
  signal?: AbortSignal,
  dockerfileDir?: string,
  loadTarget?: OutputTarget,
  headers: FilterHeaderPlan = { contextAsInputs: false },
): Promise<PreparedSession> {
  await requireKind(spec.contextDir, 'directory', 'build context');
  await requireKind(spec.dockerfile, 'file', 'Dockerfile');
  for (const [name, ctx] of Object.entries(spec.namedContexts ?? {})) {
    if (ctx.kind !== 'image') await requireKind(ctx.dir, 'directory', `named context "${name}"`);
  }
  // When another session serves context and Dockerfile, this one must not:
  // a daemon that cannot reach the shared one would silently use ours.
  // The context's ignore rules apply on this side too, so the files sent are
  // right whether or not the daemon's filter headers arrive (daemons before
  // 0.12 pass non-ASCII ones raw; see filter-header-escaping.ts), and with
  // the context as LLB inputs, where no frontend applies them.
  const ignored = source.kind === 'own-session' ? (await readDockerignore(spec.contextDir, { dockerfile: spec.dockerfile, signal })).patterns : [];
  // As inputs, the Dockerfile's local carries no followpaths either: send just the Dockerfile and its ignore file.
  const name = path.basename(spec.dockerfile);
  const dockerfileOnly = headers.contextAsInputs ? { filter: { followPaths: [name, `${name}.dockerignore`] } } : {};
  const dirs: Record<string, SyncedDir> =
    source.kind === 'own-session'
      ? { context: { dir: spec.contextDir, ...(ignored.length ? { filter: { excludePatterns: ignored } } : {}) }, dockerfile: { dir: path.dirname(spec.dockerfile), ...dockerfileOnly } }
      : {};
  // A Dockerfile given as text is this build's own, whoever serves the context.
  if (dockerfileDir) dirs.dockerfile = { dir: dockerfileDir, ...dockerfileOnly };
  const stores: Record<string, string> = {};
  const locals: { named: Record<string, string>; ociLayouts: Record<string, string> } = { named: {}, ociLayouts: {} };
  let n = 0;
  for (const [name, ctx] of Object.entries(spec.namedContexts ?? {})) {
    if (ctx.kind === 'local') {
      const localName = `named-context-${n++}`;
      dirs[localName] = { dir: ctx.dir };
      locals.named[name] = localName;
    } else if (ctx.kind === 'oci-layout') {
      // The frontend wants `<store>@<digest>`: resolve the tag from the layout's index here.
      const manifest = findByTag(await readOciIndex(ctx.dir), ctx.tag ?? 'latest');
      if (!manifest) throw new BuildkitError('not-found', `named context "${name}": no image tagged "${ctx.tag ?? 'latest'}" in ${ctx.dir}/index.json`);
      const storeId = createHash('sha256').update(ctx.dir).digest('hex').slice(0, 32);
      stores[storeIds.ociLayout(storeId)] = ctx.dir;
      locals.ociLayouts[name] = `oci-layout://${storeId}@${manifest.digest}`;
    }
  }
  for (const dir of outputs.layoutDirs.values()) stores[storeIds.export] = dir;
  const cacheImports: TypedAttrs[] = [];
  for (const c of spec.cacheFrom ?? []) {
    if (c.type === 'local' && c.attrs.src) {
      stores[storeIds.localCache(c.attrs.src)] = c.attrs.src;
      const digest = c.attrs.digest ?? (await resolveLocalCacheImport(c.attrs.src, c.attrs.tag ?? 'latest'));
      cacheImports.push({ type: 'local', attrs: { ...c.attrs, digest } });
    } else {
      cacheImports.push({ type: c.type, attrs: { ...c.attrs } });
    }
  }
  const cacheExports = (spec.cacheTo ?? []).map((c) => {
    if (c.type === 'local' && c.attrs.dest) stores[storeIds.localCache(c.attrs.dest)] = c.attrs.dest;
    return { type: c.type, attrs: { ...c.attrs } };
  });

  const fileSync = new FileSyncProvider(dirs);
  const attachables: Attachable[] = [fileSync];
  const fileTargets = new Map(outputs.fileTargets);
  if (outputs.engineLoad && loadTarget) fileTargets.set(outputs.engineLoad.exporterIndex, loadTarget);
  let auth: AuthProvider | undefined;
  try {
    if (fileTargets.size) attachables.push(new FileSendProvider(fileTargets));
    if (Object.keys(stores).length) attachables.push(new ContentStoreProvider(stores));
    if (spec.secrets?.length) attachables.push(await SecretsProvider.load(spec.secrets, { signal }));
    if (spec.ssh?.length) attachables.push(await SshProvider.create(spec.ssh, { signal }));
    if (spec.auth !== false) attachables.push((auth = await AuthProvider.fromDockerConfig({ ...spec.auth, signal })));
  } catch (err) {
    // No session owns them yet: stop what was started (private ssh-agents) before failing.
    await Promise.allSettled(attachables.map((a) => a.close?.()));
    throw err;
  }
  return { attachables, fileSync, locals, cacheImports, cacheExports, ...(auth ? { auth } : {}) };
}

/**
 * How this build keeps filters with non-ASCII characters away from a daemon
 * that cannot pass them (see non-ascii-filters.ts). The daemon is asked only
 * when such a filter exists. Unreadable files count as empty here: the
 * checks before the solve report them.
 */
async function filterHeaderPlan(client: BuildkitClient, spec: BuildSpec, source: ContextSource, signal?: AbortSignal): Promise<FilterHeaderPlan> {
  const ownContext = source.kind === 'own-session';
  const noIgnore: { patterns: string[]; file?: string } = { patterns: [] };
  const ignoreOf = (dir: string, dockerfile?: string) => readDockerignore(dir, { ...(dockerfile ? { dockerfile } : {}), signal }).catch(() => noIgnore);
  const named = await Promise.all(
    Object.entries(spec.namedContexts ?? {}).flatMap(([name, ctx]) =>
      ctx.kind === 'local' ? [ignoreOf(ctx.dir).then((i) => ({ name, patterns: i.patterns, ...(i.file ? { ignoreFile: i.file } : {}) }))] : [],
    ),
  );
  const filters: FrontendFilters = {
    ownContext,
    ignore: ownContext ? await ignoreOf(spec.contextDir, spec.dockerfile) : noIgnore,
    dockerfile: { path: spec.dockerfile, text: ownContext ? (spec.dockerfileText ?? (await fs.readFile(spec.dockerfile, 'utf8').catch(() => ''))) : '' },
    named,
  };
  if (!hasNonAsciiFilters(filters)) return { contextAsInputs: false };
  return planFilterHeaders(filters, await escapesFilterHeaders(client, signal));
}

/** Context and Dockerfile as LLB inputs, served by the build's own session, without filters (its FileSync applies the ignore rules). */
function ownSessionInputs(spec: BuildSpec, sessionId: string): ContextSource {
  return {
    kind: 'frontend-inputs',
    context: marshal(State.local('context', { sessionId, sharedKeyHint: 'context' })),
    dockerfile: marshal(State.local('dockerfile', { sessionId, sharedKeyHint: 'dockerfile' })),
    filename: path.basename(spec.dockerfile),
  };
}

/** Frontend attributes that point the frontend at the context source (and, unless the own session serves it, the Dockerfile's). */
function contextAttrs(source: ContextSource, ownDockerfile: boolean): Record<string, string> {
  switch (source.kind) {
    case 'own-session':
      return {};
    case 'local-sessionid':
      if (ownDockerfile) return { 'local-sessionid:context': source.sessionId };
      return {
        'local-sessionid:context': source.sessionId,
        dockerfilekey: source.dockerfileLocal,
        [`local-sessionid:${source.dockerfileLocal}`]: source.sessionId,
      };
    case 'frontend-inputs':
      return { filename: source.filename };
  }
}

/** Fail early, naming the path, when an input the build needs is missing or of the wrong kind. */
async function requireKind(p: string, kind: 'file' | 'directory', what: string): Promise<void> {
  let st: import('node:fs').Stats;
  try {
    st = await fs.stat(p);
  } catch (err) {
    // The errno text repeats the path and says it in system terms ("ENOENT: no such file…, stat '…'").
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new BuildkitError('not-found', `${what} ${p} does not exist`, { cause: err });
    throw BuildkitError.from(err, `${what} ${p} cannot be read`);
  }
  if (kind === 'file' ? !st.isFile() : !st.isDirectory()) throw new BuildkitError('invalid-argument', `${what} ${p} is not a ${kind}`);
}

/** Client-side steps after the solve: index.json of OCI layouts and local caches. */
async function finishOutputs(spec: BuildSpec, outputs: OutputPlan, response: Record<string, string>, signal?: AbortSignal): Promise<void> {
  for (const dir of outputs.layoutDirs.values()) await writeOciLayoutIndex(dir, response, signal);
  for (const c of spec.cacheTo ?? []) {
    const manifest = response['cache.manifest'];
    if (c.type === 'local' && c.attrs.dest && manifest) await writeLocalCacheIndex(c.attrs.dest, manifest, c.attrs.tag ?? 'latest', signal);
  }
}
