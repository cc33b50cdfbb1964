import path from 'node:path';
import type { ImageTarget } from './image-target';
import { formatCredentialPlan, type CredentialPlan } from './credentials/credential-groups';
import type { ImageLink } from './links/plan-links';
import { localNameFor } from './local-name';
import { planSessions, type PlannedLocal, type PlannedSession, type PlannedSource, type SessionInputs } from './plan-sessions';

export { localNameFor };
export type { PlannedLocal, PlannedSession, PlannedSource, SessionInputs };

/** A directory the run's shared session(s) serve, under a local name of its own. */
export interface SharedDir {
  /** ASCII-safe local name, stable per directory (`ctx-<hash>` / `df-<hash>`). */
  localName: string;
  dir: string;
  /** Targets whose builds read it. */
  users: string[];
}

/** For one target: which session serves each attachable. */
export interface TargetAssignment {
  id: string;
  dependsOn: readonly string[];
  /** `shared:<localName>` or `own`. */
  context: string;
  dockerfile: string;
  /** Path of the Dockerfile inside the directory that serves it. */
  dockerfileName: string;
  /** Always the target's own session, limited to the ids configured for it. */
  secrets: readonly string[];
  ssh: readonly string[];
  auth: 'own' | 'anonymous';
  outputs: readonly string[];
  /** The image names (tags) the target builds, resolved. */
  images: readonly string[];
  /** The labels set on the image, resolved (given and generated). */
  labels: Readonly<Record<string, string>>;
  /** Each output with where it goes (`push a:1, a:latest`, `load a:1`, `local /out`…); empty = the builder's default. */
  destinations: readonly string[];
  /** A target sharing its context: the planned session and local sources that serve it (absent when the binding is not known). */
  source?: PlannedSource;
}

/** The resolved plan of a run; printable without touching a daemon. */
export interface RunPlan {
  /** Targets in a valid build order (dependencies first). */
  targets: TargetAssignment[];
  /** Directories served by the shared session(s), each once. */
  sharedDirs: SharedDir[];
  /** How the builder binds locals to a shared session, as planned with. */
  binding: SessionInputs['binding'];
  /** The shared sessions the run opens (none while the binding is not known). */
  sessions: PlannedSession[];
  /** Image→image links: dependants that read another target's result of this run (see links/). */
  links: PlannedLink[];
  /** Which targets never build at the same time because their registry credentials differ (see credentials/). */
  credentials: CredentialPlan;
}

/** A dependant built FROM another target of the run, as the plan shows it. */
export interface PlannedLink {
  from: string;
  to: string;
  /** The references that name the base's image, as written, with where they are (`line 3`, `named context base`). */
  refs: string[];
}

/**
 * Plan a run: order the targets, give every shared context directory one
 * local name (so it is sent once however many targets use it), and record
 * which session serves what, down to the local sources and their filters
 * (given what `inputs` says of the builder and the ignore files). Pure: no
 * daemon, no file reads; the run opens exactly what it says.
 */
export function planRun(
  targets: readonly ImageTarget[],
  links: readonly ImageLink[] = [],
  credentials: CredentialPlan = { groups: [targets.map((t) => t.id)], conflicts: [], lenders: [] },
  inputs: SessionInputs = { binding: 'unknown' },
): RunPlan {
  const shared = new Map<string, SharedDir>();
  const use = (kind: 'ctx' | 'df', dir: string, user: string): string => {
    const localName = localNameFor(kind, dir);
    const entry = shared.get(localName) ?? { localName, dir: path.resolve(dir), users: [] };
    if (!entry.users.includes(user)) entry.users.push(user);
    shared.set(localName, entry);
    return localName;
  };
  const assignments = buildOrder(targets).map((t): TargetAssignment => {
    const spec = t.spec;
    const dockerfileDir = path.dirname(spec.dockerfile);
    const insideContext = !path.relative(spec.contextDir, spec.dockerfile).startsWith('..');
    let context = 'own';
    let dockerfile = 'own';
    let dockerfileName = path.basename(spec.dockerfile);
    if (t.contextPolicy === 'shared') {
      context = `shared:${use('ctx', spec.contextDir, t.id)}`;
      if (insideContext) {
        dockerfile = context;
        dockerfileName = path.relative(spec.contextDir, spec.dockerfile).split(path.sep).join('/');
      } else {
        dockerfile = `shared:${use('df', dockerfileDir, t.id)}`;
      }
    }
    return {
      id: t.id,
      dependsOn: t.dependsOn,
      context,
      dockerfile,
      dockerfileName,
      secrets: (spec.secrets ?? []).map((s) => s.id),
      ssh: (spec.ssh ?? []).map((s) => s.id ?? 'default'),
      auth: spec.auth === false ? 'anonymous' : 'own',
      outputs: (spec.outputs ?? []).map((o) => o.type),
      images: [...(t.imageNames ?? [])],
      labels: { ...spec.labels },
      destinations: (spec.outputs ?? []).map(describeOutput),
    };
  });
  const planned = links.map((l) => ({
    from: l.from,
    to: l.to,
    refs: [...l.refs.map((r) => `${r.ref} (line ${r.line})`), ...l.namedContexts.map((n) => `named context ${n}`)],
  }));
  const sharedDirs = [...shared.values()];
  const { sessions, sources } = planSessions(targets, assignments, sharedDirs, inputs);
  const withSources = assignments.map((a) => (sources.has(a.id) ? { ...a, source: sources.get(a.id)! } : a));
  return { targets: withSources, sharedDirs, binding: inputs.binding, sessions, links: planned, credentials };
}

/** Dependencies before dependants; ties keep the given order. */
function buildOrder(targets: readonly ImageTarget[]): ImageTarget[] {
  const byId = new Map(targets.map((t) => [t.id, t]));
  const out: ImageTarget[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (t: ImageTarget, chain: string[]) => {
    if (state.get(t.id) === 'done') return;
    if (state.get(t.id) === 'visiting') throw new Error(`dependency cycle: ${[...chain, t.id].join(' -> ')}`);
    state.set(t.id, 'visiting');
    for (const d of t.dependsOn) {
      const dep = byId.get(d);
      if (!dep) throw new Error(`${t.id} depends on ${d}, which is not part of this run`);
      visit(dep, [...chain, t.id]);
    }
    state.set(t.id, 'done');
    out.push(t);
  };
  for (const t of targets) visit(t, []);
  return out;
}

/** The plan as text, for `--print` and logs. Never contains session IDs. */
export function formatPlan(plan: RunPlan): string {
  const lines = ['shared directories (each sent once by the shared session serving it):'];
  if (plan.sharedDirs.length === 0) lines.push('  (nothing shared)');
  for (const d of plan.sharedDirs) lines.push(`  ${d.localName}  ${d.dir}  used by ${d.users.join(', ')}`);
  lines.push(...formatSessions(plan));
  lines.push('targets, in build order:');
  for (const t of plan.targets) lines.push(...formatTarget(t));
  if (plan.links.length) {
    // What a user checks before a run: which images come from this run rather than a registry or the engine's old copy.
    lines.push("image links (the dependant reads exactly the base's result of this run; no push, no load; on a builder that is not a Docker engine: the digest the base pushed):");
    for (const l of plan.links) lines.push(`  ${l.from} FROM ${l.to}: linked in-daemon  [${l.refs.join(', ')}]`);
  }
  lines.push(...formatCredentialPlan(plan.credentials));
  return lines.join('\n');
}

function formatSessions(plan: RunPlan): string[] {
  if (plan.binding === 'unknown') return ['shared sessions: not known (they follow the builder\'s binding, and it did not answer)'];
  const lines = [`shared sessions: ${plan.sessions.length} (binding ${plan.binding}; fresh IDs, FileSync only)`];
  plan.sessions.forEach((s, i) => {
    lines.push(`  session ${i + 1}, shared key <run>${s.sharedKeySuffix}: used by ${s.users.join(', ')}`);
    for (const d of s.dirs) lines.push(`    ${d.localName}  ${d.dir}${d.excludes ? `  excluding here [${d.excludes.join(', ')}]` : ''}`);
    if (s.prefetch.length) lines.push(`    prefetched first: ${s.prefetch.map(formatLocal).join('; ')}`);
  });
  return lines;
}

function formatTarget(t: TargetAssignment): string[] {
  const lines = [`  ${t.id}${t.dependsOn.length ? ` (after ${t.dependsOn.join(', ')})` : ''}`];
  lines.push(`    context: ${t.context}   dockerfile: ${t.dockerfile} (${t.dockerfileName})`);
  const source = t.source;
  if (source?.kind === 'local-sessionid') lines.push(`    served by session ${source.session + 1}: local-sessionid, context, dockerfile ${source.dockerfileLocal}`);
  if (source?.kind === 'frontend-inputs') {
    const dockerfile = source.dockerfile === 'context' ? 'from the context' : formatLocal(source.dockerfile);
    lines.push(`    served by session ${source.session + 1}: frontend inputs, context ${formatLocal(source.context)}, dockerfile ${dockerfile}`);
  }
  lines.push(`    own session: secrets [${t.secrets.join(', ')}]  ssh [${t.ssh.join(', ')}]  auth ${t.auth}  outputs [${t.outputs.join(', ')}]`);
  lines.push(`    tags: ${t.images.length ? t.images.join(', ') : '(none)'}`);
  const labels = Object.entries(t.labels);
  if (labels.length) lines.push(`    labels: ${labels.map(([k, v]) => `${k}=${v}`).join(', ')}`);
  lines.push(`    outputs: ${t.destinations.length ? t.destinations.join('; ') : 'none given: loaded on a Docker engine, cache only on a buildkitd'}`);
  return lines;
}

/** A local source as the plan shows it: its name and the filters sent with it. */
function formatLocal(l: PlannedLocal): string {
  const filters = [
    ...(l.excludePatterns?.length ? [`excludes [${l.excludePatterns.join(', ')}]`] : []),
    ...(l.followPaths?.length ? [`followpaths [${l.followPaths.join(', ')}]`] : []),
  ];
  return `${l.localName}${filters.length ? ` (${filters.join(', ')})` : ''}`;
}

/** One output as `--print` shows it. */
function describeOutput(o: NonNullable<ImageTarget['spec']['outputs']>[number]): string {
  switch (o.type) {
    case 'image':
      return `${o.push ? 'push' : 'image'} ${o.names.join(', ')}`;
    case 'load':
      return `load ${o.names.join(', ')}`;
    case 'cacheonly':
      return 'cacheonly';
    case 'oci':
      return `oci ${o.dest}${o.tar === false ? ' (layout)' : ''}`;
    default:
      return `${o.type} ${o.dest}`;
  }
}
