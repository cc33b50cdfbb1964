import { describe, expect, test } from 'bun:test';
import { tagRuleToTemplate } from './metadata-tags';

describe("docker/metadata-action tag rules as our tag templates", () => {
  test.each([
    ['type=ref,event=branch', '{{branch}}'],
    ['type=ref,event=tag', '{{tag}}'],
    ['type=sha', 'sha-{{sha}}'],
    ['type=sha,prefix=,format=long', '{{sha:long}}'],
    ['type=sha,prefix=git-', 'git-{{sha}}'],
    ['type=semver,pattern={{version}}', '{{version}}'],
    ['type=semver,pattern={{major}}', '{{version:major}}'],
    ['type=raw,value=latest', 'latest'],
    ['type=raw,value={{branch}}-{{sha}}', '{{branch}}-{{sha}}'],
    ["type=raw,value={{date 'YYYYMMDD-HHmm'}}", '{{date:YYYYMMDD-HHmm}}'],
    ["type=raw,value={{commit_date 'YYYY.MM.DD'}}", '{{commit-date:YYYY.MM.DD}}'],
    ['edge-build', 'edge-build'],
    ['type=ref,event=branch,suffix=-dev,enable=true', '{{branch}}-dev'],
  ])('%s → %s', (rule, template) => {
    const result = tagRuleToTemplate(rule);
    expect('template' in result && result.template).toBe(template);
  });

  test.each([
    ['type=schedule', 'type=schedule depends on the CI event'],
    ['type=edge', 'type=edge depends on the CI event'],
    ['type=ref,event=pr', 'type=ref,event=pr: a pull-request ref'],
    ['type=semver,pattern={{major}}.{{minor}}.{{patch}}', 'type=semver with pattern {{major}}.{{minor}}.{{patch}} has no equivalent'],
    ['type=raw,value={{is_default_branch}}', 'the expression {{is_default_branch}} has no equivalent'],
    ['type=raw,value=x,enable=false', 'enable=false: a condition on the CI event has no equivalent'],
    ['type=raw', 'type=raw without a value'],
  ])('%s has none: %s', (rule, problem) => {
    const result = tagRuleToTemplate(rule);
    expect('problem' in result && result.problem).toStartWith(problem);
  });
});
