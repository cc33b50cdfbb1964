import { flagValue, mountFields, readDirective, readInstructions, splitFlags } from './instructions';

/** Where a Dockerfile names another image. */
export type ReferenceKind = 'from' | 'copy-from' | 'mount-from';

/** An image the Dockerfile pulls in, as written (not normalized). */
export interface DockerfileReference {
  ref: string;
  kind: ReferenceKind;
  /** 1-based line of the instruction. */
  line: number;
  /** Set when `ref` is a `FROM` written with build args and resolved from their defaults (so a build arg can change it). */
  fromArgDefaults?: true;
}

/**
 * The external images a Dockerfile uses: `FROM` bases, `COPY --from=` and
 * `RUN --mount=…,from=` sources. A `FROM` that names a global build arg
 * (`ARG BASE=…` before the first `FROM`, then `FROM $BASE` or `FROM ${BASE}`)
 * resolves to the arg's default, as bake and buildx do when no build arg
 * overrides it. Left out, because they are not images this workspace could
 * build: `scratch`, references to earlier stages (by name or index), and
 * references that still depend on a build arg without a default.
 *
 * Read with the small Dockerfile reader of `./instructions` (so a `FROM`
 * line inside a heredoc is not an instruction).
 */
export function parseDockerfileReferences(text: string): DockerfileReference[] {
  // Copies: the cached entries must stay as parsed whatever callers do with theirs.
  return parsedUse(text).refs.map((r) => ({ ...r }));
}

/** Every image a Dockerfile may make the daemon fetch, as far as the text alone tells. */
export interface DockerfileImageUse {
  /** As {@link parseDockerfileReferences}. */
  refs: DockerfileReference[];
  /** References that still contain `$`: which image (and registry) they name is known only at build time. */
  dynamic: DockerfileReference[];
  /** The frontend image of a `# syntax=` parser directive, which the daemon pulls first. */
  syntax?: string;
}

/** {@link DockerfileImageUse} of a Dockerfile's text. */
export function parseDockerfileImageUse(text: string): DockerfileImageUse {
  const use = parsedUse(text);
  return { refs: use.refs.map((r) => ({ ...r })), dynamic: use.dynamic.map((r) => ({ ...r })), ...(use.syntax ? { syntax: use.syntax } : {}) };
}

/**
 * Parsed Dockerfiles by text. Nx runs createNodes and then createDependencies
 * in the same plugin process, and both read every Dockerfile: the second pass
 * (and a long-lived Nx daemon's next graph) then parses nothing unchanged.
 * Cleared when it grows past a bound.
 */
const parsed = new Map<string, DockerfileImageUse>();
const maxParsed = 10_000;

function parsedUse(text: string): DockerfileImageUse {
  let use = parsed.get(text);
  if (!use) {
    if (parsed.size >= maxParsed) parsed.clear();
    use = parse(text);
    parsed.set(text, use);
  }
  return use;
}

function parse(text: string): DockerfileImageUse {
  const stages = new Set<string>();
  const refs: DockerfileReference[] = [];
  const dynamic: DockerfileReference[] = [];
  const add = (ref: string | undefined, kind: ReferenceKind, line: number, fromArgDefaults = false) => {
    if (!ref || /^\d+$/.test(ref)) return;
    if (ref.includes('$')) {
      dynamic.push({ ref, kind, line });
      return;
    }
    const lower = ref.toLowerCase();
    if (lower === 'scratch' || stages.has(lower)) return;
    refs.push({ ref, kind, line, ...(fromArgDefaults ? { fromArgDefaults: true as const } : {}) });
  };
  // Build args declared before the first FROM: the only ones a FROM line can use.
  const globalArgs = new Map<string, string | undefined>();
  let seenFrom = false;
  for (const { keyword, args, line } of readInstructions(text)) {
    const { flags, words } = splitFlags(args);
    if (keyword === 'ARG' && !seenFrom) {
      for (const [name, value] of readArgDeclarations(args)) globalArgs.set(name, value);
    } else if (keyword === 'FROM') {
      seenFrom = true;
      // A build arg can name another image at build time: the reference as written is dynamic
      // (any registry), and its defaults' value orders the build like a plain reference.
      if (words[0]?.includes('$')) add(words[0], 'from', line);
      add(words[0] === undefined ? undefined : expandArgs(words[0], globalArgs), 'from', line, words[0]?.includes('$'));
      // Stage names are case-insensitive; BuildKit lowercases them.
      if (words.length >= 3 && words[1]!.toLowerCase() === 'as') stages.add(words[2]!.toLowerCase());
    } else if (keyword === 'COPY') {
      add(flagValue(flags, 'from'), 'copy-from', line);
    } else if (keyword === 'RUN') {
      for (const mount of flags.filter((f) => f.name === 'mount')) add(mountSource(mount.value), 'mount-from', line);
    }
  }
  const syntax = readDirective(text.replace(/^\uFEFF/, '').split(/\r?\n/), 'syntax');
  return { refs, dynamic, ...(syntax ? { syntax } : {}) };
}

/** `ARG NAME`, `ARG NAME=value`, `ARG A=1 B="2"`: each name with its default (quotes removed), if any. */
function readArgDeclarations(args: string): Array<[string, string | undefined]> {
  return args.split(/\s+/).filter(Boolean).map((word) => {
    const eq = word.indexOf('=');
    if (eq < 0) return [word, undefined];
    return [word.slice(0, eq), word.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2')];
  });
}

/**
 * `$NAME`, `${NAME}`, `${NAME:-word}` / `${NAME-word}` and `${NAME:+word}` /
 * `${NAME+word}` replaced from the build args' defaults (the Dockerfile
 * frontend's own forms); undefined when an arg without a value is used, as
 * the image is then known only at build time.
 */
function expandArgs(ref: string, args: ReadonlyMap<string, string | undefined>): string | undefined {
  let unresolved = false;
  const expanded = ref.replace(/\$\{(\w+)(?:(:?)([-+])([^}]*))?\}|\$(\w+)/g, (_all, braced: string | undefined, colon: string, op: string | undefined, word: string, bare: string | undefined) => {
    const name = (braced ?? bare)!;
    const value = args.get(name);
    const set = colon ? value !== undefined && value !== '' : value !== undefined;
    if (op === '-') return set ? value! : word;
    if (op === '+') return set ? word : '';
    if (value === undefined) unresolved = true;
    return value ?? '';
  });
  return unresolved ? undefined : expanded;
}

/** The `from=` field of a `--mount=` value. */
function mountSource(value: string): string | undefined {
  return mountFields(value).get('from');
}
