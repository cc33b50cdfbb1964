import type { AuthProviderOptions } from '../attachables/auth/auth-provider';
import type { SecretSpec } from '../attachables/secrets/secret-source';
import type { SshAgentSpec } from '../attachables/ssh/ssh-provider';

/**
 * Everything one Dockerfile build needs, fully resolved (absolute paths,
 * defaults filled in by the caller). The single-build API takes this; the
 * Nx executor produces it from validated options.
 */
export interface BuildSpec {
  /** Shown in messages and progress (e.g. the Nx project). */
  name: string;
  /** Absolute path of the build context directory. */
  contextDir: string;
  /** Absolute path of the Dockerfile. */
  dockerfile: string;
  /**
   * The Dockerfile's content, served instead of the file at `dockerfile`
   * (which still gives its name and its `.dockerignore`). The multi-target
   * engine uses it to point references at linked images on frontends that
   * have no named contexts.
   */
  dockerfileText?: string;
  /** Stage to build (`--target`). */
  target?: string;
  buildArgs?: Readonly<Record<string, string>>;
  labels?: Readonly<Record<string, string>>;
  /** Target platforms like `linux/amd64`; default: the worker's. */
  platforms?: readonly string[];
  /** Named contexts (`--build-context name=…`). */
  namedContexts?: Readonly<Record<string, NamedContext>>;
  /** Always ask the registry for base images (`--pull`) instead of using a local copy. */
  pull?: boolean;
  /** `true` = no cache for any step; a list = no cache for those stages. */
  noCache?: boolean | readonly string[];
  /** Size of /dev/shm for RUN steps, in bytes. */
  shmSize?: number;
  /** Resource limits for RUN steps (`nofile=1024:2048`). */
  ulimits?: readonly string[];
  /** Parent cgroup of RUN steps. */
  cgroupParent?: string;
  /** Entitlements the solve asks for (`network.host`, `security.insecure`); the daemon must allow them. */
  entitlements?: readonly ('network.host' | 'security.insecure')[];
  /** SLSA provenance attestation in the exported image index (`attest:provenance`). */
  provenance?: 'min' | 'max';
  /** SBOM attestation in the exported image index (`attest:sbom`); `generator` is the scanner image, else the frontend's default. */
  sbom?: { generator?: string };
  /** OCI annotations on exported images (manifest level unless another is named). */
  annotations?: readonly ImageAnnotation[];
  /** Network for RUN steps: `default` (sandbox), `none` or `host` (needs the entitlement). */
  network?: 'default' | 'none' | 'host';
  /** Extra /etc/hosts entries for RUN steps. */
  extraHosts?: Readonly<Record<string, string>>;
  secrets?: readonly SecretSpec[];
  ssh?: readonly SshAgentSpec[];
  /** Registry credentials from the Docker config; `false` = anonymous. */
  auth?: AuthProviderOptions | false;
  /** Where the result goes; none (or only `cacheonly`) = nowhere but the build cache (the result then says `cacheOnly`). */
  outputs?: readonly OutputSpec[];
  cacheFrom?: readonly CacheSpec[];
  cacheTo?: readonly CacheSpec[];
  /** Scopes the daemon's reuse of earlier context transfers (printable ASCII). */
  sharedKey?: string;
}

/** A named build context (`context:<name>` in the Dockerfile frontend). */
export type NamedContext =
  /** A directory on this machine, sent through the session. */
  | { kind: 'local'; dir: string }
  /** An image reference (`docker-image://`). */
  | { kind: 'image'; ref: string }
  /** An image in an OCI layout directory on this machine, read through the session content store. */
  | { kind: 'oci-layout'; dir: string; tag?: string };

/** Where the build result goes. */
export type OutputSpec =
  /** An image with these names, optionally pushed (needs an image-store that can push). */
  | { type: 'image'; names: readonly string[]; push?: boolean; insecure?: boolean; attrs?: Readonly<Record<string, string>> }
  /** Into the Docker engine's image store (`--load`). */
  | { type: 'load'; names: readonly string[] }
  /** The result's filesystem into a directory. */
  | { type: 'local'; dest: string }
  /** The result's filesystem as a tarball. */
  | { type: 'tar'; dest: string }
  /** An OCI image tarball (or layout directory with `tar: false`). */
  | { type: 'oci'; dest: string; names?: readonly string[]; tar?: boolean }
  /** A Docker image tarball (`docker load` format). */
  | { type: 'docker'; dest: string; names?: readonly string[] }
  /** No export at all (buildx's `cacheonly`): the result stays in the build cache, and the engine's default load is not applied. */
  | { type: 'cacheonly' };

/**
 * A cache import or export backend, with its attributes (`type=registry,ref=…`).
 * buildImage checks the attributes each type needs first (validateCacheSpecs).
 */
export interface CacheSpec {
  type: 'registry' | 'local' | 'inline' | 'gha' | 's3' | 'azblob';
  attrs: Readonly<Record<string, string>>;
}

/** One OCI annotation of an exported image, as buildx's `--annotation [<level>:]key=value`. */
export interface ImageAnnotation {
  level: 'manifest' | 'index' | 'manifest-descriptor' | 'index-descriptor';
  key: string;
  value: string;
}
