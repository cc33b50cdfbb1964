/**
 * Immutable LLB graph builder. A `State` is one output of an op (or scratch);
 * every method returns a new State and never changes the one it was called on.
 * Nothing talks to a daemon until the graph is marshaled (`marshal.ts`).
 */

/** A target platform, as BuildKit names its parts. */
export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Per-op metadata the daemon reads besides the op itself. */
export interface OpMetadataInit {
  /** Shown as the vertex name in progress (`llb.customname`). */
  customName?: string;
  /** Run this op even when a cached result exists. */
  ignoreCache?: boolean;
}

/** One node of the graph: an op body (pb.Op fields other than `inputs`) and its inputs. */
export interface LlbNode {
  /** The pb.Op oneof member and its value, in the plain shape of gen/types.ts. */
  readonly body: Readonly<Record<string, unknown>>;
  readonly inputs: readonly StateOutput[];
  readonly platform?: Platform;
  readonly metadata?: OpMetadataInit;
}

/** An output of a node. */
export interface StateOutput {
  readonly node: LlbNode;
  readonly index: number;
}

/** Options of a local directory source (`local://<name>`). */
export interface LocalOptions {
  /** Session that serves the directory (`local.session`); absent = the solve's own session. */
  sessionId?: string;
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
  followPaths?: readonly string[];
  /** Part of the daemon's key for incremental-transfer snapshots. */
  sharedKeyHint?: string;
  /** `none` re-sends every file; `metadata` (default) compares size and mtime. */
  differ?: 'metadata' | 'none';
  /**
   * Keeps this source from merging with identical sources of concurrent builds.
   * Only meaningful without `sessionId` (then the daemon might pick another build's session).
   */
  unique?: string;
  customName?: string;
}

/** Options of a container image source (`docker-image://<ref>`). */
export interface ImageOptions {
  platform?: Platform;
  resolveMode?: 'default' | 'pull' | 'local';
  customName?: string;
}

/** Options of an OCI layout source (`oci-layout://<ref>`), read through a session's content store. */
export interface OciLayoutOptions {
  /** Session serving the layout (`oci.session`); absent = any session of the build. */
  sessionId?: string;
  /** The layout's store ID (`oci.store`): the daemon asks the content store for `oci:<storeId>`. */
  storeId?: string;
  platform?: Platform;
  customName?: string;
}

/** Ownership for file actions, by numeric ID. */
export interface Owner {
  uid: number;
  gid: number;
}

export interface MkfileOptions {
  /** Permission bits; default 0o644. */
  mode?: number;
  owner?: Owner;
  /** Modification time in nanoseconds since the epoch (decimal string keeps int64 exact). */
  timestampNs?: string;
}

export interface MkdirOptions {
  mode?: number;
  makeParents?: boolean;
  owner?: Owner;
  timestampNs?: string;
}

export interface CopyOptions {
  owner?: Owner;
  mode?: number;
  followSymlinks?: boolean;
  /** Copy a directory's contents rather than the directory itself. */
  copyDirContents?: boolean;
  createDestPath?: boolean;
  allowWildcard?: boolean;
  allowEmptyWildcard?: boolean;
  includePatterns?: readonly string[];
  excludePatterns?: readonly string[];
}

/** A mount of a `run` step besides the root filesystem. */
export type RunMount =
  /** Another state mounted at `dest` (read-only unless `readonly: false`; writes are discarded). */
  | { type: 'bind'; dest: string; source: State; selector?: string; readonly?: boolean }
  /** A secret file from the session's Secrets attachable (default dest: /run/secrets/<id>). */
  | { type: 'secret'; dest: string; id: string; optional?: boolean; mode?: number; uid?: number; gid?: number }
  /** An SSH agent socket forwarded from the session's SSH attachable. */
  | { type: 'ssh'; dest: string; id?: string; optional?: boolean; mode?: number; uid?: number; gid?: number }
  /** A persistent cache directory keyed by `id`. */
  | { type: 'cache'; dest: string; id: string; sharing?: 'shared' | 'private' | 'locked' }
  /** An empty in-memory filesystem. */
  | { type: 'tmpfs'; dest: string };

/** A process to run on top of a state. */
export interface RunOptions {
  args: readonly string[];
  /** `KEY=value` entries; defaults to a standard PATH. */
  env?: readonly string[];
  cwd?: string;
  user?: string;
  /** `sandbox` (default), `host` or `none`. */
  network?: 'sandbox' | 'host' | 'none';
  mounts?: readonly RunMount[];
  /** Environment variables filled from secrets. */
  secretEnv?: ReadonlyArray<{ id: string; name: string; optional?: boolean }>;
  /** Extra /etc/hosts entries. */
  extraHosts?: ReadonlyArray<{ host: string; ip: string }>;
  customName?: string;
  ignoreCache?: boolean;
}

const defaultPath = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** BuildKit's marker for "no timestamp given" in file actions (keeps the daemon's default). */
const unsetTime = '-1';

/** One output of an LLB op, or scratch (the empty filesystem). */
export class State {
  private constructor(
    /** The op output this state stands for; null for scratch. */
    readonly output: StateOutput | null,
  ) {}

  /** The empty filesystem. */
  static scratch(): State {
    return new State(null);
  }

  /** A directory sent by a session's FileSync (`local://<name>`). */
  static local(name: string, options: LocalOptions = {}): State {
    const attrs: Record<string, string> = {};
    if (options.sessionId) attrs['local.session'] = options.sessionId;
    if (options.includePatterns?.length) attrs['local.includepattern'] = JSON.stringify(options.includePatterns);
    if (options.excludePatterns?.length) attrs['local.excludepatterns'] = JSON.stringify(options.excludePatterns);
    if (options.followPaths?.length) attrs['local.followpaths'] = JSON.stringify(options.followPaths);
    if (options.sharedKeyHint) attrs['local.sharedkeyhint'] = options.sharedKeyHint;
    if (options.differ) attrs['local.differ'] = options.differ;
    if (options.unique) attrs['local.unique'] = options.unique;
    return State.source(`local://${name}`, attrs, undefined, options.customName);
  }

  /** A container image (`docker-image://<ref>`); the platform selects the manifest. */
  static image(ref: string, options: ImageOptions = {}): State {
    const attrs: Record<string, string> = {};
    if (options.resolveMode) attrs['image.resolvemode'] = options.resolveMode;
    return State.source(`docker-image://${ref}`, attrs, options.platform, options.customName);
  }

  /**
   * An image from an OCI layout served by a session's content store. `ref`
   * must carry the manifest's digest (`name@sha256:…`; the daemon does not
   * read index.json), e.g. `docker.io/library/app@sha256:…`.
   */
  static ociLayout(ref: string, options: OciLayoutOptions = {}): State {
    const attrs: Record<string, string> = {};
    if (options.sessionId) attrs['oci.session'] = options.sessionId;
    if (options.storeId) attrs['oci.store'] = options.storeId;
    return State.source(`oci-layout://${ref}`, attrs, options.platform, options.customName);
  }

  private static source(identifier: string, attrs: Record<string, string>, platform: Platform | undefined, customName?: string): State {
    const node: LlbNode = {
      body: { source: { identifier, attrs } },
      inputs: [],
      ...(platform ? { platform } : {}),
      ...(customName ? { metadata: { customName } } : {}),
    };
    return new State({ node, index: 0 });
  }

  /** This state with a file written at `path`. */
  mkfile(path: string, data: Uint8Array | string, options: MkfileOptions = {}): State {
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    return this.fileAction('mkfile', {
      path,
      mode: options.mode ?? 0o644,
      data: bytes,
      ...ownerField(options.owner),
      timestamp: options.timestampNs ?? unsetTime,
    });
  }

  /** This state with a directory created at `path`. */
  mkdir(path: string, options: MkdirOptions = {}): State {
    return this.fileAction('mkdir', {
      path,
      mode: options.mode ?? 0o755,
      makeParents: options.makeParents ?? false,
      ...ownerField(options.owner),
      timestamp: options.timestampNs ?? unsetTime,
    });
  }

  /** This state with `srcPath` of `from` copied to `destPath`. */
  copy(from: State, srcPath: string, destPath: string, options: CopyOptions = {}): State {
    return this.fileAction(
      'copy',
      {
        src: srcPath,
        dest: destPath,
        ...ownerField(options.owner),
        mode: options.mode ?? -1,
        followSymlink: options.followSymlinks ?? false,
        dirCopyContents: options.copyDirContents ?? false,
        createDestPath: options.createDestPath ?? false,
        allowWildcard: options.allowWildcard ?? false,
        allowEmptyWildcard: options.allowEmptyWildcard ?? false,
        includePatterns: [...(options.includePatterns ?? [])],
        excludePatterns: [...(options.excludePatterns ?? [])],
        timestamp: unsetTime,
      },
      from,
    );
  }

  /** Run a process on this state; the result is its root filesystem after the run. */
  run(options: RunOptions): State {
    const inputs: StateOutput[] = [];
    const inputIndex = (state: State): number => {
      if (!state.output) return -1;
      inputs.push(state.output);
      return inputs.length - 1;
    };
    const mounts: Array<Record<string, unknown>> = [{ input: inputIndex(this), dest: '/', output: 0 }];
    for (const m of options.mounts ?? []) mounts.push(wireMount(m, inputIndex));
    const network = { sandbox: 'UNSET', host: 'HOST', none: 'NONE' }[options.network ?? 'sandbox'];
    const node: LlbNode = {
      body: {
        exec: {
          meta: {
            args: [...options.args],
            env: [...(options.env ?? [defaultPath])],
            cwd: options.cwd ?? '/',
            ...(options.user ? { user: options.user } : {}),
            ...(options.extraHosts?.length ? { extraHosts: options.extraHosts.map((h) => ({ Host: h.host, IP: h.ip })) } : {}),
          },
          mounts,
          network,
          ...(options.secretEnv?.length
            ? { secretenv: options.secretEnv.map((e) => ({ ID: e.id, name: e.name, optional: e.optional ?? false })) }
            : {}),
        },
      },
      inputs,
      ...(options.customName || options.ignoreCache
        ? { metadata: { ...(options.customName ? { customName: options.customName } : {}), ...(options.ignoreCache ? { ignoreCache: true } : {}) } }
        : {}),
    };
    return new State({ node, index: 0 });
  }

  /** This state with progress shown under `name`. */
  withCustomName(name: string): State {
    if (!this.output) return this;
    const node = { ...this.output.node, metadata: { ...this.output.node.metadata, customName: name } };
    return new State({ node, index: this.output.index });
  }

  private fileAction(kind: 'mkfile' | 'mkdir' | 'copy', action: Record<string, unknown>, secondary?: State): State {
    const inputs: StateOutput[] = [];
    const indexOf = (state: State | undefined): number => {
      if (!state?.output) return -1;
      inputs.push(state.output);
      return inputs.length - 1;
    };
    const input = indexOf(this);
    const secondaryInput = indexOf(secondary);
    const node: LlbNode = {
      body: { file: { actions: [{ input, secondaryInput, output: 0, [kind]: action }] } },
      inputs,
    };
    return new State({ node, index: 0 });
  }
}

function wireMount(m: RunMount, inputIndex: (s: State) => number): Record<string, unknown> {
  const perms = (x: { mode?: number; uid?: number; gid?: number }, defaultMode: number) => ({
    uid: x.uid ?? 0, gid: x.gid ?? 0, mode: x.mode ?? defaultMode,
  });
  switch (m.type) {
    case 'bind':
      return { input: inputIndex(m.source), selector: m.selector ?? '', dest: m.dest, output: -1, readonly: m.readonly ?? true };
    case 'secret':
      return { input: -1, dest: m.dest, output: -1, mountType: 'SECRET', secretOpt: { ID: m.id, ...perms(m, 0o400), optional: m.optional ?? false } };
    case 'ssh':
      return { input: -1, dest: m.dest, output: -1, mountType: 'SSH', SSHOpt: { ID: m.id ?? 'default', ...perms(m, 0o600), optional: m.optional ?? false } };
    case 'cache':
      return { input: -1, dest: m.dest, output: -1, mountType: 'CACHE', cacheOpt: { ID: m.id, sharing: (m.sharing ?? 'shared').toUpperCase() } };
    case 'tmpfs':
      return { input: -1, dest: m.dest, output: -1, mountType: 'TMPFS' };
  }
}

function ownerField(owner: Owner | undefined): Record<string, unknown> {
  if (!owner) return {};
  return { owner: { user: { byID: owner.uid }, group: { byID: owner.gid } } };
}
