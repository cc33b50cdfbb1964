/** A `namedContexts` value as written in options, by kind; paths not yet resolved. */
export type NamedContextValue =
  | { kind: 'image'; ref: string }
  /** buildx bake's `target:<project>[:<target>]`: the image another task of the run builds. */
  | { kind: 'target'; task: string }
  | { kind: 'local'; path: string }
  | { kind: 'oci-layout'; path: string; tag?: string };

/**
 * Read a `namedContexts` value (`docker-image://`, `target:`, `local:`,
 * `oci-layout://<dir>[:tag]`), or undefined for any other form. The one
 * reading of these prefixes: the executor builds from it and the Nx plugin
 * infers dependencies from it.
 */
export function parseNamedContextValue(value: string): NamedContextValue | undefined {
  if (value.startsWith('docker-image://')) return { kind: 'image', ref: value.slice('docker-image://'.length) };
  if (value.startsWith('target:')) return { kind: 'target', task: value.slice('target:'.length) };
  if (value.startsWith('local:')) return { kind: 'local', path: value.slice('local:'.length) };
  if (value.startsWith('oci-layout://')) {
    const m = /^(.*?)(?::([\w][\w.-]{0,127}))?$/.exec(value.slice('oci-layout://'.length))!;
    return { kind: 'oci-layout', path: m[1]!, ...(m[2] ? { tag: m[2] } : {}) };
  }
  return undefined;
}
