import { describe, expect, test } from 'bun:test';
import type { ImageTarget } from '../image-target';
import { formatPlan } from '../run-plan';
import { planLinks, withLinkDependencies } from './plan-links';
import { planLinkedRun } from './plan-linked-run';

const target = (id: string, imageNames: string[], extra: Partial<ImageTarget> = {}, spec: Partial<ImageTarget['spec']> = {}): ImageTarget => ({
  id,
  dependsOn: [],
  contextPolicy: 'shared',
  imageNames,
  spec: { name: id.split(':')[0]!, contextDir: `/ws/${id}`, dockerfile: `/ws/${id}/Dockerfile`, ...spec },
  ...extra,
});

describe('image links', () => {
  const base = target('base:image', ['base:latest']);
  const tools = target('tools:image', ['registry.example/team/tools:1.0', 'registry.example/team/tools:latest']);

  test('FROM / COPY --from / mount from= naming another target of the run link to it, in any spelling', () => {
    const web = target('web:image', ['web:latest']);
    const dockerfiles = new Map([
      ['web:image', 'FROM docker.io/library/base:latest AS b\nCOPY --from=registry.example/team/tools:1.0 /t /t\nRUN --mount=from=base,target=/m true\nFROM nxbk-base\n'],
    ]);
    const links = planLinks([base, tools, web], dockerfiles);
    expect(links.map((l) => [l.from, l.to, l.refs.map((r) => `${r.kind}:${r.ref}@${r.line}`)])).toEqual([
      ['web:image', 'base:image', ['from:docker.io/library/base:latest@1', 'mount-from:base@3']],
      ['web:image', 'tools:image', ['copy-from:registry.example/team/tools:1.0@2']],
    ]);
  });

  test('no link to itself, to other tags, to references a named context replaces, or to an ambiguous name', () => {
    const self = target('base2:image', ['base:2'], {}, {});
    const replaced = target('api:image', ['api:latest'], {}, { namedContexts: { base: { kind: 'local', dir: '/x' } } });
    const twin = target('twin:image', ['base:latest']);
    const dockerfiles = new Map([
      ['base2:image', 'FROM base:2\nFROM base:3\n'],
      ['api:image', 'FROM base\n'],
    ]);
    expect(planLinks([base, self, replaced], dockerfiles)).toEqual([]);
    // Two targets build base:latest: only the one the dependant declared is linked.
    const ambiguous = target('web:image', ['web:latest']);
    const declared = target('web:image', ['web:latest'], { dependsOn: ['twin:image'] });
    const text = new Map([['web:image', 'FROM base\n']]);
    expect(planLinks([base, twin, ambiguous], text)).toEqual([]);
    expect(planLinks([base, twin, declared], text).map((l) => l.to)).toEqual(['twin:image']);
  });

  test('an image-kind named context that names another target is linked too', () => {
    const web = target('web:image', ['web:latest'], {}, { namedContexts: { runtime: { kind: 'image', ref: 'base' } } });
    const links = planLinks([base, web], new Map([['web:image', 'FROM runtime\n']]));
    expect(links).toEqual([{ from: 'web:image', to: 'base:image', refs: [], namedContexts: ['runtime'] }]);
  });

  test('a link is a dependency even when nobody declared it', () => {
    const web = target('web:image', ['web:latest']);
    const linked = withLinkDependencies([base, web], planLinks([base, web], new Map([['web:image', 'FROM base\n']])));
    expect(linked.map((t) => [t.id, t.dependsOn])).toEqual([['base:image', []], ['web:image', ['base:image']]]);
  });

  test('--print shows every link', async () => {
    const web = target('web:image', ['web:latest'], {}, { dockerfileText: 'FROM base\nCOPY --from=base /a /b\n' });
    const { plan } = await planLinkedRun([web, base]);
    expect(plan.targets.map((t) => t.id)).toEqual(['base:image', 'web:image']);
    const text = formatPlan(plan);
    expect(text).toContain('web:image FROM base:image: linked in-daemon  [base (line 1), base (line 2)]');
    expect(text).toContain('web:image (after base:image)');
  });
});
