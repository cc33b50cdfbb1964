import type { FilterDecision, FilterVerdict, TreeFilter } from './walk-tree';

/**
 * A filter that sends an entry only when every given filter would (the
 * daemon's patterns and the client's own rules must both pass). Each filter
 * keeps its own per-directory state. `undefined` when none is given.
 */
export function allFilters(...filters: Array<TreeFilter | undefined>): TreeFilter | undefined {
  const active = filters.filter((f): f is TreeFilter => f !== undefined);
  if (active.length <= 1) return active[0];
  return {
    match(relPath: string, isDir: boolean, parentState: unknown): FilterDecision {
      const parents = parentState as unknown[] | undefined;
      const states: unknown[] = [];
      let verdict: FilterVerdict = 'include';
      for (const [i, filter] of active.entries()) {
        const d = filter.match(relPath, isDir, parents?.[i]);
        if (d.verdict === 'exclude') return { verdict: 'exclude' };
        if (d.verdict === 'descend-only') verdict = 'descend-only';
        states.push(d.state);
      }
      return { verdict, state: isDir ? states : undefined };
    },
  };
}

/**
 * Whether `relPath` can appear in a walk with `filter`: no ancestor
 * directory is excluded, and the entry itself is included (a directory: not
 * excluded, as it may still be sent for its contents). Used to hide
 * client-excluded entries from symlink resolution.
 */
export function admits(filter: TreeFilter, relPath: string, isDir: boolean): boolean {
  const parts = relPath.split('/');
  let state: unknown;
  for (let i = 0; i < parts.length - 1; i++) {
    const d = filter.match(parts.slice(0, i + 1).join('/'), true, state);
    if (d.verdict === 'exclude') return false;
    state = d.state;
  }
  const verdict = filter.match(relPath, isDir, state).verdict;
  return isDir ? verdict !== 'exclude' : verdict === 'include';
}
