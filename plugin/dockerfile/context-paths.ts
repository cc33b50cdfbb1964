import path from 'node:path';
import { flagValue, mountFields, readInstructions, splitFlags } from './instructions';

/**
 * The paths of the build context a Dockerfile reads: the sources of its
 * `COPY` and `ADD` instructions without `--from`, and of its `RUN
 * --mount=type=bind` mounts without `from=`, relative to the context root
 * (wildcards kept). The Dockerfile frontend asks the client for these paths
 * only (the local source's followpaths) when it reads the context from a
 * session itself; when the context is handed to it as a prepared input, it
 * reads whatever the input holds, so the client has to narrow the input the
 * same way or send the whole directory.
 *
 * Undefined means "the whole context": a source that is the context's root
 * (`..` cannot leave it), that names a build arg or variable (known only at
 * build time), that is quoted or escaped, or an `ONBUILD` instruction (whose
 * sources the stages built FROM this image would read). An empty list: the
 * Dockerfile reads nothing from the context.
 *
 * What the text cannot tell: `ONBUILD` triggers of a base image, which the
 * frontend runs in the stage FROM it. A target whose base image's triggers
 * copy from the context needs the whole context: `sessionPolicy.context:
 * isolated` sends it whole, in the target's own session.
 */
export function dockerfileContextPaths(text: string): string[] | undefined {
  const paths = new Set<string>();
  for (const { keyword, args } of readInstructions(text)) {
    let sources: Array<string | undefined> = [];
    if (keyword === 'ONBUILD') return undefined;
    if (keyword === 'COPY' || keyword === 'ADD') sources = copySources(keyword, args);
    else if (keyword === 'RUN') sources = bindMountSources(args);
    for (const source of sources) {
      if (source === undefined) return undefined;
      paths.add(source);
    }
  }
  return [...paths].sort();
}

/** Whether a Dockerfile has an `ONBUILD` instruction (triggers for the images built FROM its image). */
export function hasOnbuild(text: string): boolean {
  for (const { keyword } of readInstructions(text)) if (keyword === 'ONBUILD') return true;
  return false;
}

/** A `COPY`/`ADD`'s context sources, each normalized (undefined: the whole context); none with `--from`. */
function copySources(keyword: string, args: string): Array<string | undefined> {
  const { flags, words } = splitFlags(args);
  if (flagValue(flags, 'from') !== undefined) return [];
  // The words after the flags as written (a JSON form keeps its spacing).
  const rest = args.replace(/^(?:\s*--\S+)*\s*/, '');
  let all: unknown;
  if (rest.startsWith('[')) {
    try {
      all = JSON.parse(rest);
    } catch {
      return [undefined];
    }
  } else {
    // Quoted or escaped words are not split here as the frontend splits them: the whole context then.
    if (/["'\\]/.test(rest)) return [undefined];
    all = words;
  }
  if (!Array.isArray(all) || all.length < 2 || !all.every((w) => typeof w === 'string')) return [undefined];
  const sources = (all as string[]).slice(0, -1).filter((s) => !s.startsWith('<<'));
  return sources.filter((s) => keyword !== 'ADD' || !isRemote(s)).map(contextPath);
}

/** The sources of `RUN --mount=` bind mounts read from the context (no `from=`). */
function bindMountSources(args: string): Array<string | undefined> {
  const { flags } = splitFlags(args);
  return flags
    .filter((f) => f.name === 'mount')
    .map((f) => mountFields(f.value))
    .filter((m) => (m.get('type') ?? 'bind') === 'bind' && !m.has('from'))
    .map((m) => contextPath(m.get('source') ?? m.get('src') ?? '/'));
}

/** `ADD` of a URL or a Git repository reads no context file. */
function isRemote(source: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(source) || /^git@/.test(source);
}

/** The source as a path under the context root (as the frontend cleans it: `..` stops at the root); undefined for the root itself or a variable. */
function contextPath(source: string): string | undefined {
  if (source.includes('$')) return undefined;
  const normalized = path.posix.normalize(`/${source}`).slice(1).replace(/\/+$/, '');
  return normalized === '' ? undefined : normalized;
}
