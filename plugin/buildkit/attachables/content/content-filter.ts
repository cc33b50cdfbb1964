import { BuildkitError } from '../../errors';

/** Looks up a field by its path (`['digest']`, `['labels', 'org.example/key']`); undefined when absent. */
export type FieldLookup = (path: readonly string[]) => string | undefined;

/** A compiled filter list: true when the object matches any one filter (an empty list matches all). */
export type FilterPredicate = (lookup: FieldLookup) => boolean;

interface Condition {
  path: string[];
  op: 'present' | '==' | '!=' | '~=';
  value: string;
}

/**
 * Compile containerd-style filters (the `filters` of List/ListStatuses): each
 * filter is `selector[op value]` conditions joined by `,` (all must hold),
 * and the list matches when any filter does. Selectors are dotted paths whose
 * parts may be double-quoted (`labels."org.example/key"`); ops are `==`,
 * `!=`, `~=` (regular expression) or none (field present).
 *
 * Written here rather than taken from npm: no package implements containerd's
 * filter syntax, and the daemon only ever sends empty lists.
 */
export function compileFilters(filters: readonly string[]): FilterPredicate {
  const parsed = filters.filter((f) => f.trim() !== '').map(parseFilter);
  if (parsed.length === 0) return () => true;
  return (lookup) => parsed.some((conditions) => conditions.every((c) => matches(c, lookup)));
}

function matches(c: Condition, lookup: FieldLookup): boolean {
  const value = lookup(c.path);
  switch (c.op) {
    case 'present': return value !== undefined;
    case '==': return value === c.value;
    case '!=': return value !== c.value;
    case '~=': return value !== undefined && new RegExp(c.value).test(value);
  }
}

function parseFilter(text: string): Condition[] {
  const fail = (why: string): never => { throw new BuildkitError('invalid-argument', `invalid filter ${JSON.stringify(text)}: ${why}`); };
  let i = 0;
  const skipSpace = () => { while (text[i] === ' ') i++; };
  const quoted = (): string => {
    let out = '';
    for (i++; i < text.length && text[i] !== '"'; i++) out += text[i] === '\\' ? text[++i] ?? '' : text[i];
    if (text[i] !== '"') fail('unterminated quote');
    i++;
    return out;
  };
  const conditions: Condition[] = [];
  while (i < text.length) {
    skipSpace();
    const path: string[] = [];
    do {
      if (path.length > 0) i++; // the '.'
      if (text[i] === '"') path.push(quoted());
      else {
        const m = /^[A-Za-z0-9_]+/.exec(text.slice(i)) ?? fail(`field name expected at ${i}`);
        path.push(m[0]);
        i += m[0].length;
      }
    } while (text[i] === '.');
    skipSpace();
    const op = /^(==|!=|~=)/.exec(text.slice(i))?.[0] as Condition['op'] | undefined;
    let value = '';
    if (op) {
      i += 2;
      skipSpace();
      if (text[i] === '"') value = quoted();
      else {
        const end = text.indexOf(',', i);
        value = text.slice(i, end < 0 ? text.length : end).trim();
        i = end < 0 ? text.length : end;
      }
      if (op === '~=') {
        try { new RegExp(value); } catch { fail(`bad regular expression ${JSON.stringify(value)}`); }
      }
    }
    conditions.push({ path, op: op ?? 'present', value });
    skipSpace();
    if (i < text.length && text[i++] !== ',') fail(`"," expected at ${i - 1}`);
  }
  return conditions;
}
