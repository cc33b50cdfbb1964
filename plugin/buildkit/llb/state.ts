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

function ownerField(owner: Owner | undefined): Record<string, unknown> {
  if (!owner) return {};
  return { owner: { user: { byID: owner.uid }, group: { byID: owner.gid } } };
}
