import type { CredentialIdentity } from '../../buildkit/index';
import type { RegistryUse } from './registry-use';

/** What the planner knows about one target's registry access. */
export interface TargetCredentials {
  id: string;
  use: RegistryUse;
  identity: CredentialIdentity;
}

/** Two targets that never build at the same time, and the registry that keeps them apart. */
export interface CredentialConflict {
  a: string;
  b: string;
  /** A registry both may use with different credentials (`*` = any registry neither names). */
  host: string;
  /** What serves `host` for `a` and for `b`, and why each may use it. */
  aSource: string;
  bSource: string;
  aWhy: string;
  bWhy: string;
}

/** The credential part of a run's plan. */
export interface CredentialPlan {
  /**
   * Targets with the same credentials for every registry of the run, in
   * plan order; the targets of one group may always build together.
   */
  groups: string[][];
  /** Every pair that must not overlap, with one registry on which they differ. */
  conflicts: CredentialConflict[];
  /**
   * Targets whose session hands out credentials for a registry their build
   * may use: only such a session can still serve a pull the daemon merged
   * with another running solve, so only these are kept open after their
   * solve ends (see credential-gate.ts). A session that can only answer
   * anonymously helps no shared pull.
   */
  lenders: string[];
}

/** Stands for every registry no target names, when two targets may both touch any registry. */
const anyOtherHost = '*';
const anyOtherProbe = 'any-other-registry.invalid';

/**
 * Decide which targets must never build at the same time: the daemon shares
 * registry auth state between concurrent solves (a pull both need is merged
 * and asks whichever session answers first; image resolution is merged by
 * reference), so two solves may overlap only if they would hand the daemon
 * the same credentials for every registry both may touch. A target whose
 * references are not all known before the solve (`FROM $BASE`) may touch
 * any registry. Pure.
 */
export function planCredentialGroups(targets: readonly TargetCredentials[]): CredentialPlan {
  const runHosts = new Set<string>([anyOtherHost]);
  for (const t of targets) {
    for (const h of t.use.hosts.keys()) runHosts.add(h);
    for (const h of t.identity.hosts) runHosts.add(h);
  }
  // Fingerprints are looked up once per target and registry: runs have thousands of targets.
  const cache = new Map<TargetCredentials, Map<string, string>>();
  const fp = (t: TargetCredentials, host: string) => {
    let byHost = cache.get(t);
    if (!byHost) cache.set(t, (byHost = new Map()));
    let value = byHost.get(host);
    if (value === undefined) byHost.set(host, (value = t.identity.fingerprint(host === anyOtherHost ? anyOtherProbe : host)));
    return value;
  };
  const sortedHosts = [...runHosts].sort();
  const groups: Array<{ signature: string; members: TargetCredentials[] }> = [];
  for (const t of targets) {
    const signature = JSON.stringify(sortedHosts.map((h) => fp(t, h)));
    const group = groups.find((g) => g.signature === signature);
    if (group) group.members.push(t);
    else groups.push({ signature, members: [t] });
  }
  // Targets of one group have the same credentials everywhere: only pairs across groups can conflict.
  const conflicts: CredentialConflict[] = [];
  for (let i = 0; i < groups.length; i++) {
    for (let j = i + 1; j < groups.length; j++) {
      for (const a of groups[i]!.members) {
        for (const b of groups[j]!.members) {
          const conflict = conflictBetween(a, b, fp);
          if (conflict) conflicts.push(conflict);
        }
      }
    }
  }
  const lenders = targets.filter((t) => mayUse(t).some((h) => fp(t, h) !== 'none')).map((t) => t.id);
  return { groups: groups.map((g) => g.members.map((m) => m.id)), conflicts, lenders };
}

/** The registries a target may use: the ones it names, and with references known only at build time, any it has credentials for. */
function mayUse(t: TargetCredentials): string[] {
  const known = [...t.use.hosts.keys()];
  return t.use.unknown.length ? [...known, ...t.identity.hosts, anyOtherHost] : known;
}

/** For the scheduler: every target's conflicting targets. */
export function conflictMap(plan: CredentialPlan): Map<string, Set<string>> {
  const map = new Map<string, Set<string>>();
  const add = (a: string, b: string) => map.set(a, (map.get(a) ?? new Set()).add(b));
  for (const c of plan.conflicts) {
    add(c.a, c.b);
    add(c.b, c.a);
  }
  return map;
}

function conflictBetween(a: TargetCredentials, b: TargetCredentials, fp: (t: TargetCredentials, host: string) => string): CredentialConflict | undefined {
  for (const host of sharedHosts(a, b)) {
    if (fp(a, host) === fp(b, host)) continue;
    const probe = host === anyOtherHost ? anyOtherProbe : host;
    return {
      a: a.id,
      b: b.id,
      host,
      aSource: a.identity.describe(probe),
      bSource: b.identity.describe(probe),
      aWhy: why(a, host),
      bWhy: why(b, host),
    };
  }
  return undefined;
}

/**
 * Registries both targets may touch. Known references name their
 * registries; a target with unknown ones may touch any, so against a
 * known set that set counts, and between two such targets every registry
 * either has credentials for (and any other) counts.
 */
function sharedHosts(a: TargetCredentials, b: TargetCredentials): string[] {
  const known = (t: TargetCredentials) => [...t.use.hosts.keys()];
  const anyA = a.use.unknown.length > 0;
  const anyB = b.use.unknown.length > 0;
  if (!anyA && !anyB) return known(a).filter((h) => b.use.hosts.has(h));
  if (anyA && !anyB) return known(b);
  if (!anyA && anyB) return known(a);
  return [...new Set([...known(a), ...known(b), ...a.identity.hosts, ...b.identity.hosts, anyOtherHost])];
}

function why(t: TargetCredentials, host: string): string {
  const reasons = t.use.hosts.get(host);
  if (reasons?.length) return reasons.join(', ');
  return `may use any registry: ${t.use.unknown.join(', ')}`;
}

/** The credential part of `--print`. Names sources, never secrets. */
export function formatCredentialPlan(plan: CredentialPlan): string[] {
  if (plan.conflicts.length === 0) return ['registry credentials: every target may build alongside every other (no two differ for a registry both may use)'];
  const lines = ["registry credentials: targets whose credentials differ for a registry both may use never build at the same time (the daemon shares registry auth between concurrent builds):"];
  plan.groups.forEach((g, i) => lines.push(`  group ${i + 1}: ${g.join(', ')}`));
  lines.push('  kept apart:');
  for (const c of plan.conflicts.slice(0, maxPrintedConflicts)) {
    const host = c.host === anyOtherHost ? 'any registry' : c.host;
    lines.push(`    ${c.a} / ${c.b} on ${host}: ${c.a} uses ${c.aSource} (${c.aWhy}); ${c.b} uses ${c.bSource} (${c.bWhy})`);
  }
  if (plan.conflicts.length > maxPrintedConflicts) lines.push(`    … and ${plan.conflicts.length - maxPrintedConflicts} more pairs`);
  return lines;
}

const maxPrintedConflicts = 50;
