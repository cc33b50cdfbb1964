import { csvPairs } from '../../plugin/config/buildx-csv';

/** One docker/metadata-action tag rule as our tag template, or why it has none. */
export type TagRuleResult = { template: string; note?: string } | { problem: string };

/** metadata-action's default rules when `metadata.tags` is not given. */
export const defaultTagRules = ['type=schedule', 'type=ref,event=branch', 'type=ref,event=tag', 'type=ref,event=pr'];

/**
 * A `metadata.tags` rule of nx-container (docker/metadata-action's syntax:
 * `type=ref,event=branch`, `type=sha`, `type=semver,pattern={{version}}`,
 * `type=raw,value=…`) as one of our tag templates (plugin/metadata/README.md).
 * Rules that depend on a CI event (schedule, pull request, edge, match) have
 * no template: the caller reports them.
 */
export function tagRuleToTemplate(rule: string): TagRuleResult {
  const read = rule.includes('=') ? csvPairs(rule) : { pairs: [{ key: 'value', value: rule }] };
  if ('problem' in read) return { problem: read.problem };
  const attrs = Object.fromEntries(read.pairs.map((p) => [p.key, p.value]));
  const type = attrs['type'] ?? 'raw';
  const { prefix = '', suffix = '', enable, priority, ...rest } = attrs;
  if (enable !== undefined && enable !== 'true') return { problem: `enable=${enable}: a condition on the CI event has no equivalent` };
  const around = (core: TagRuleResult): TagRuleResult => {
    if ('problem' in core) return core;
    const text = `${prefix}${core.template}${suffix}`;
    const unmapped = unmappedExpression(text);
    if (unmapped) return { problem: `the expression ${unmapped} has no equivalent` };
    return { template: text, ...(core.note || priority ? { note: [core.note, priority ? 'priority (tag order) is not kept' : undefined].filter(Boolean).join('; ') } : {}) };
  };
  switch (type) {
    case 'raw':
      if (!rest['value']) return { problem: 'type=raw without a value' };
      return around({ template: rawExpressions(rest['value']) });
    case 'sha': {
      const core = rest['format'] === 'long' ? '{{sha:long}}' : '{{sha}}';
      // metadata-action puts "sha-" before a sha tag unless a prefix is given.
      return around({ template: `${attrs['prefix'] === undefined ? 'sha-' : ''}${core}` });
    }
    case 'ref':
      if (rest['event'] === 'branch') return around({ template: '{{branch}}' });
      if (rest['event'] === 'tag') return around({ template: '{{tag}}' });
      return { problem: `type=ref,event=${rest['event'] ?? ''}: a pull-request ref has no equivalent outside CI` };
    case 'semver': {
      const pattern = (rest['pattern'] ?? '').replace(/\s+/g, '');
      const template = ({ '{{version}}': '{{version}}', '{{major}}.{{minor}}': '{{version:major.minor}}', '{{major}}': '{{version:major}}' } as Record<string, string>)[pattern];
      if (!template || rest['value'] !== undefined) return { problem: `type=semver with pattern ${pattern || '(none)'}${rest['value'] !== undefined ? ' and a value' : ''} has no equivalent` };
      return around({ template, note: "the version comes from the project's package.json or project.json, not from the git tag" });
    }
    default:
      return { problem: `type=${type} depends on the CI event or on matching a git tag, which our templates do not do` };
  }
}

/** metadata-action's expressions inside a raw value, in our placeholder syntax. */
function rawExpressions(value: string): string {
  return value
    .replace(/\{\{\s*(branch|tag|sha)\s*\}\}/g, '{{$1}}')
    .replace(/\{\{\s*date\s+'([^']*)'\s*\}\}/g, '{{date:$1}}')
    .replace(/\{\{\s*commit_date\s+'([^']*)'\s*\}\}/g, '{{commit-date:$1}}');
}

/** An expression left that none of ours stands for (`{{base_ref}}`, `{{is_default_branch}}`, a date with a time zone…). */
function unmappedExpression(template: string): string | undefined {
  for (const m of template.matchAll(/\{\{([^}]*)\}\}/g)) {
    const inner = m[1]!;
    if (/^(branch|tag|sha|sha:long|version|version:major|version:major\.minor)$/.test(inner)) continue;
    if (/^(date|commit-date):[YMDHms.\-_\d]+$/.test(inner)) continue;
    return m[0];
  }
  return undefined;
}
