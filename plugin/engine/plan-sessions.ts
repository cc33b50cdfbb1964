import { createHash } from 'node:crypto';
import path from 'node:path';
import { headerSafe, type BindingMechanism } from '../buildkit/index';
import type { ImageTarget } from './image-target';
import { localNameFor } from './local-name';

/**
 * What the session plan needs to know beyond the targets, found out before
 * planning: how the builder binds locals to a shared session, whether it
 * escapes filter headers, and the targets' ignore files.
 */
export interface SessionInputs {
  /** `none`: no target shares its context; `unknown`: the builder did not answer (`--print` only). */
  binding: BindingMechanism | 'none' | 'unknown';
  /** Whether the daemon passes non-ASCII filter headers back escaped; asked only when a filter needs it (see {@link filtersToPass}). */
  escapesFilterHeaders?: boolean;
  /** Ignore patterns of each shared target's context, by target id (read on `frontend-inputs` and `prefetch` only). */
  ignores?: ReadonlyMap<string, readonly string[]>;
  /**
   * The context paths each shared target's Dockerfile reads, by target id
   * (undefined: the whole context); read on `frontend-inputs` and `prefetch`
   * only, where the frontend gets the context as a prepared input and does
   * not narrow it itself.
   */
  contextPaths?: ReadonlyMap<string, readonly string[] | undefined>;
}

/** A local source a build reads: its name in the shared session, and the filters that go to the daemon with it. */
export interface PlannedLocal {
  localName: string;
  excludePatterns?: string[];
  followPaths?: string[];
}

/** A directory a shared session serves under a local name, with the excludes this side applies itself. */
export interface ServedDir {
  localName: string;
  dir: string;
  excludes?: string[];
}

/** One shared session of the run (FileSync only, fresh ID each time it opens). */
export interface PlannedSession {
  /** Appended to the run's shared key: the daemon's incremental snapshots of different contexts stay apart. */
  sharedKeySuffix: string;
  dirs: ServedDir[];
  /** Targets it serves; it closes when the last one is done. */
  users: string[];
  /** BuildKit ≤ 0.9: local sources solved once with this session as the solve's own, before its first target builds. */
  prefetch: PlannedLocal[];
}

/** How a target sharing its context reads context and Dockerfile, from which planned session. */
export type PlannedSource =
  /** The frontend asks the session for `context` and the Dockerfile's local itself. */
  | { session: number; kind: 'local-sessionid'; dockerfileLocal: string }
  /** Context and Dockerfile go to the frontend as local sources (`context`: the Dockerfile rides with the context). */
  | { session: number; kind: 'frontend-inputs'; context: PlannedLocal; dockerfile: PlannedLocal | 'context'; filename: string };

/** The shared sessions of a run and how each sharing target is served. */
export interface SessionPlan {
  sessions: PlannedSession[];
  sources: Map<string, PlannedSource>;
}

/** What planRun decided for a target that the session plan builds on. */
interface Assigned {
  id: string;
  context: string;
  dockerfile: string;
  dockerfileName: string;
}

/**
 * The shared sessions: with `local-sessionid` the frontend reads every main
 * context under the fixed name `context`, so one session per context
 * directory; with LLB frontend inputs (and the prefetch) one session serves
 * every directory under its own name. Pure.
 */
export function planSessions(targets: readonly ImageTarget[], assigned: readonly Assigned[], sharedDirs: readonly ServedDir[], inputs: SessionInputs): SessionPlan {
  const sharing = targets.filter((t) => t.contextPolicy === 'shared');
  if (sharing.length === 0 || inputs.binding === 'none' || inputs.binding === 'unknown') return { sessions: [], sources: new Map() };
  if (inputs.binding === 'local-sessionid') return planPerContext(sharing);
  const byId = new Map(assigned.map((a) => [a.id, a]));
  return planOne(sharing.map((t) => ({ t, a: byId.get(t.id)! })), sharedDirs, inputs);
}

function planPerContext(targets: readonly ImageTarget[]): SessionPlan {
  const byContext = new Map<string, ImageTarget[]>();
  for (const t of targets) {
    const key = path.resolve(t.spec.contextDir);
    byContext.set(key, [...(byContext.get(key) ?? []), t]);
  }
  const plan: SessionPlan = { sessions: [], sources: new Map() };
  for (const [contextDir, users] of byContext) {
    const dirs: ServedDir[] = [{ localName: 'context', dir: contextDir }];
    for (const t of users) addDir(dirs, { localName: localNameFor('df', path.dirname(t.spec.dockerfile)), dir: path.dirname(t.spec.dockerfile) });
    const session = plan.sessions.push({ sharedKeySuffix: `:${localNameFor('ctx', contextDir)}`, dirs, users: users.map((t) => t.id), prefetch: [] }) - 1;
    for (const t of users) plan.sources.set(t.id, { session, kind: 'local-sessionid', dockerfileLocal: localNameFor('df', path.dirname(t.spec.dockerfile)) });
  }
  return plan;
}

/** The filters a target's context and Dockerfile would carry to the daemon. */
function targetFilters(t: ImageTarget, a: Assigned, ignores: SessionInputs['ignores']): { excludes: string[]; followPaths: string[]; inside: boolean } {
  // No frontend applies .dockerignore to an input: the ignore rules become
  // the local source's excludes, so ignored files are not even sent.
  const ignore = [...(ignores?.get(t.id) ?? [])];
  const inside = a.dockerfile === a.context;
  const excludes = inside && ignore.length ? [...ignore, `!${a.dockerfileName}`] : ignore;
  return { excludes, followPaths: [a.dockerfileName, `${a.dockerfileName}.dockerignore`], inside };
}

/** A target sharing its context, with its filters and the local name its context is read under. */
interface ContextReader {
  t: ImageTarget;
  a: Assigned;
  filters: ReturnType<typeof targetFilters>;
  localName: string;
}

function planOne(sharing: ReadonlyArray<{ t: ImageTarget; a: Assigned }>, sharedDirs: readonly ServedDir[], inputs: SessionInputs): SessionPlan {
  const binding = inputs.binding as 'frontend-inputs' | 'prefetch';
  const session: PlannedSession = { sharedKeySuffix: '', dirs: sharedDirs.map((d) => ({ localName: d.localName, dir: d.dir })), users: sharing.map(({ t }) => t.id), prefetch: [] };
  const sources = new Map<string, PlannedSource>();
  // A daemon before BuildKit 0.12 cannot pass non-ASCII filters back to us:
  // they are left out. Non-ASCII excludes always have a local name whose
  // excludes this side applies (localNameWithExcludes), and without
  // followpaths the whole Dockerfile directory is sent, from which the
  // frontend reads the Dockerfile by name: the same files either way.
  // Only BuildKit ≤ 0.9 needs the prefetch, and it passes filters raw.
  const passable = (filters: readonly string[]) => headerSafe(filters) || (binding !== 'prefetch' && inputs.escapesFilterHeaders === true);
  const seen = new Set<string>();
  const readers: ContextReader[] = sharing.map(({ t, a }) => {
    const filters = targetFilters(t, a, inputs.ignores);
    return { t, a, filters, localName: localNameWithExcludes(session.dirs, t.spec.contextDir, filters.excludes, binding) };
  });
  const contextPaths = contextPathsByLocal(readers, inputs);
  for (const { t, a, filters, localName } of readers) {
    const { excludes, followPaths, inside } = filters;
    const paths = contextPaths.get(localName);
    const context: PlannedLocal = {
      localName,
      excludePatterns: passable(excludes) ? excludes : [],
      ...(paths?.length && passable(paths) ? { followPaths: paths } : {}),
    };
    const dockerfile: PlannedLocal | 'context' = inside ? 'context' : { localName: localNameFor('df', path.dirname(t.spec.dockerfile)), followPaths: passable(followPaths) ? followPaths : [] };
    sources.set(t.id, { session: 0, kind: 'frontend-inputs', context, dockerfile, filename: a.dockerfileName });
    if (binding !== 'prefetch') continue;
    // The same local source (name and options) needs prefetching once, whoever uses it;
    // a context none of its readers' Dockerfiles reads from is not fetched at all.
    const unread = paths !== undefined && paths.length === 0;
    for (const local of dockerfile === 'context' ? [context] : unread ? [dockerfile] : [context, dockerfile]) {
      const key = JSON.stringify(local);
      if (seen.has(key)) continue;
      seen.add(key);
      session.prefetch.push(local);
    }
  }
  return { sessions: [session], sources };
}

/**
 * The paths to send of each shared context (by local name): the union of
 * what the Dockerfiles of every target reading it under that name read
 * (their Dockerfile too, when it lies in the context), so all of them read
 * one local source, sent once. Undefined (the whole directory) when any of
 * them reads all of it, or its paths are unknown.
 */
function contextPathsByLocal(readers: readonly ContextReader[], inputs: SessionInputs): Map<string, string[] | undefined> {
  const union = new Map<string, string[] | undefined>();
  for (const { t, a, filters, localName } of readers) {
    const inside = filters.inside;
    const own = inputs.contextPaths?.get(t.id);
    const sofar = union.has(localName) ? union.get(localName) : [];
    union.set(localName, own === undefined || sofar === undefined ? undefined : [...new Set([...sofar, ...own, ...(inside ? [a.dockerfileName] : [])])].sort());
  }
  return union;
}

/**
 * The local name a context is read under with these excludes. Usually the
 * directory's own name. BuildKit ≤ 0.9 (prefetch) keeps the prefetched
 * result of only the last local source of a name, so two targets reading
 * one directory with different ignore rules would send one of them to its
 * own session; and daemons before 0.12 cannot pass filter headers with
 * non-ASCII characters back to us (they send them raw, which the daemon's
 * or our gRPC refuses), so such excludes are left out of the local source.
 * There each set of excludes gets a name of its own, for the same
 * directory, whose excludes this side applies itself.
 */
function localNameWithExcludes(dirs: ServedDir[], contextDir: string, excludes: readonly string[], binding: 'frontend-inputs' | 'prefetch'): string {
  const name = localNameFor('ctx', contextDir);
  if (excludes.length === 0 || (binding !== 'prefetch' && headerSafe(excludes))) return name;
  const variant = `${name}-x${createHash('sha256').update(JSON.stringify(excludes)).digest('hex').slice(0, 12)}`;
  addDir(dirs, { localName: variant, dir: path.resolve(contextDir), excludes: [...excludes] });
  return variant;
}

function addDir(dirs: ServedDir[], dir: ServedDir): void {
  if (!dirs.some((d) => d.localName === dir.localName)) dirs.push(dir);
}

/**
 * Whether planning on `frontend-inputs` needs the daemon's answer on escaped
 * filter headers: some filter of a sharing target is not printable ASCII.
 * Asked before planning, so that the plan itself stays pure.
 */
export function needsEscapeAnswer(targets: readonly ImageTarget[], assigned: readonly Assigned[], inputs: SessionInputs): boolean {
  if (inputs.binding !== 'frontend-inputs' || inputs.escapesFilterHeaders !== undefined) return false;
  const byId = new Map(assigned.map((a) => [a.id, a]));
  return targets.some((t) => {
    if (t.contextPolicy !== 'shared') return false;
    const { excludes, followPaths } = targetFilters(t, byId.get(t.id)!, inputs.ignores);
    return !headerSafe(excludes) || !headerSafe(followPaths) || !headerSafe(inputs.contextPaths?.get(t.id) ?? []);
  });
}
