import { describe, expect, test } from 'bun:test';
import type { ImageTarget } from './image-target';
import { formatPlan, localNameFor, planRun, type PlannedSource } from './run-plan';

const target = (id: string, contextDir: string, dockerfile: string, extra: Partial<ImageTarget> = {}, secrets: string[] = []): ImageTarget => ({
  id,
  dependsOn: [],
  contextPolicy: 'shared',
  spec: { name: id, contextDir, dockerfile, secrets: secrets.map((s) => ({ id: s, env: 'X' })) },
  ...extra,
});

describe('run plan', () => {
  const plan = planRun([
    target('web:image', '/ws/libs/ui', '/ws/apps/web/Dockerfile', { dependsOn: ['base:image'] }),
    target('admin:image', '/ws/libs/ui', '/ws/apps/admin/Dockerfile', { dependsOn: ['base:image'] }),
    target('base:image', '/ws/base', '/ws/base/Dockerfile'),
    target('worker:image', '/ws/apps/worker', '/ws/apps/worker/Dockerfile', { contextPolicy: 'isolated' }, ['npm_token']),
  ]);

  test('dependencies come first', () => {
    expect(plan.targets.map((t) => t.id)).toEqual(['base:image', 'web:image', 'admin:image', 'worker:image']);
  });

  test('a directory used by several targets is served once, under a stable ASCII name', () => {
    const ui = plan.sharedDirs.find((d) => d.dir === '/ws/libs/ui')!;
    expect(ui.users).toEqual(['web:image', 'admin:image']);
    expect(ui.localName).toBe(localNameFor('ctx', '/ws/libs/ui'));
    expect(ui.localName).toMatch(/^ctx-[0-9a-f]{20}$/);
    expect(localNameFor('ctx', '/ws/kontékst ü')).toMatch(/^ctx-[0-9a-f]{20}$/);
  });

  test('a Dockerfile outside its context gets its own shared directory; inside, it rides with the context', () => {
    const web = plan.targets.find((t) => t.id === 'web:image')!;
    expect(web.dockerfile).toBe(`shared:${localNameFor('df', '/ws/apps/web')}`);
    const base = plan.targets.find((t) => t.id === 'base:image')!;
    expect(base.dockerfile).toBe(base.context);
    expect(base.dockerfileName).toBe('Dockerfile');
  });

  test('isolated targets and private material stay with the target', () => {
    const worker = plan.targets.find((t) => t.id === 'worker:image')!;
    expect(worker.context).toBe('own');
    expect(worker.secrets).toEqual(['npm_token']);
    expect(plan.sharedDirs.some((d) => d.dir === '/ws/apps/worker')).toBe(false);
  });

  test('the printed plan names every target and shared directory, and no session ID', () => {
    const text = formatPlan(plan);
    for (const id of ['base:image', 'web:image', 'admin:image', 'worker:image', '/ws/libs/ui']) expect(text).toContain(id);
    expect(text).toContain('secrets [npm_token]');
    expect(text).not.toMatch(/[0-9a-z]{25}/);
  });

  test('a dependency outside the run or a cycle is refused', () => {
    expect(() => planRun([target('a', '/a', '/a/Dockerfile', { dependsOn: ['missing'] })])).toThrow('not part of this run');
    expect(() => planRun([target('a', '/a', '/a/Dockerfile', { dependsOn: ['b'] }), target('b', '/b', '/b/Dockerfile', { dependsOn: ['a'] })])).toThrow('dependency cycle');
  });
});

test('--print shows each target\'s resolved tags, labels and outputs', () => {
  const text = formatPlan(
    planRun([
      {
        id: 'api:image', dependsOn: [], contextPolicy: 'shared', imageNames: ['reg:5000/api:1.2', 'reg:5000/api:latest'],
        spec: { name: 'api', contextDir: '/ws/api', dockerfile: '/ws/api/Dockerfile', labels: { 'org.opencontainers.image.version': '1.2' }, outputs: [{ type: 'image', names: ['reg:5000/api:1.2', 'reg:5000/api:latest'], push: true }, { type: 'local', dest: '/ws/out' }] },
      },
      { id: 'web:image', dependsOn: [], contextPolicy: 'shared', imageNames: ['web:latest'], spec: { name: 'web', contextDir: '/ws/web', dockerfile: '/ws/web/Dockerfile' } },
    ]),
  );
  expect(text).toContain('    tags: reg:5000/api:1.2, reg:5000/api:latest\n    labels: org.opencontainers.image.version=1.2\n    outputs: push reg:5000/api:1.2, reg:5000/api:latest; local /ws/out');
  expect(text).toContain('    tags: web:latest\n    outputs: none given: loaded on a Docker engine, cache only on a buildkitd');
});

describe('the session plan', () => {
  const targets = [
    target('a:image', '/ws/shared', '/ws/apps/a/Dockerfile'),
    target('b:image', '/ws/shared', '/ws/apps/b/Dockerfile'),
    target('c:image', '/ws/c', '/ws/c/Dockerfile'),
    target('d:image', '/ws/d', '/ws/d/Dockerfile', { contextPolicy: 'isolated' }),
  ];

  test('local-sessionid: one session per context directory, the frontend reads `context` and the Dockerfile local', () => {
    const plan = planRun(targets, [], undefined, { binding: 'local-sessionid' });
    expect(plan.sessions.map((s) => [s.sharedKeySuffix, s.users])).toEqual([
      [`:${localNameFor('ctx', '/ws/shared')}`, ['a:image', 'b:image']],
      [`:${localNameFor('ctx', '/ws/c')}`, ['c:image']],
    ]);
    expect(plan.sessions[0]!.dirs.map((d) => d.localName)).toEqual(['context', localNameFor('df', '/ws/apps/a'), localNameFor('df', '/ws/apps/b')]);
    expect(plan.targets.find((t) => t.id === 'c:image')!.source).toEqual({ session: 1, kind: 'local-sessionid', dockerfileLocal: localNameFor('df', '/ws/c') });
    expect(plan.targets.find((t) => t.id === 'd:image')!.source).toBeUndefined();
    expect(formatPlan(plan)).toContain('shared sessions: 2 (binding local-sessionid; fresh IDs, FileSync only)');
  });

  test('frontend inputs: one session; the ignore rules become the context\'s excludes (the Dockerfile kept), a non-ASCII rule gets a name of its own', () => {
    const ignores = new Map([['a:image', ['*.log']], ['b:image', []], ['c:image', ['sécret']]]);
    const plan = planRun(targets, [], undefined, { binding: 'frontend-inputs', ignores });
    expect(plan.sessions).toHaveLength(1);
    const a = plan.targets.find((t) => t.id === 'a:image')!.source;
    expect(a).toEqual({ session: 0, kind: 'frontend-inputs', context: { localName: localNameFor('ctx', '/ws/shared'), excludePatterns: ['*.log'] }, dockerfile: { localName: localNameFor('df', '/ws/apps/a'), followPaths: ['Dockerfile', 'Dockerfile.dockerignore'] }, filename: 'Dockerfile' });
    const c = plan.targets.find((t) => t.id === 'c:image')!.source as Extract<PlannedSource, { kind: 'frontend-inputs' }>;
    // Not escaped by this daemon: the excludes stay on this side, under a name of their own.
    expect(c.context.localName).toMatch(new RegExp(`^${localNameFor('ctx', '/ws/c')}-x[0-9a-f]{12}$`));
    expect(c.context.excludePatterns).toEqual([]);
    expect(c.dockerfile).toBe('context');
    expect(plan.sessions[0]!.dirs.find((d) => d.localName === c.context.localName)).toEqual({ localName: c.context.localName, dir: '/ws/c', excludes: ['sécret', '!Dockerfile'] });
    expect(plan.sessions[0]!.prefetch).toEqual([]);
    const escaped = planRun(targets, [], undefined, { binding: 'frontend-inputs', ignores, escapesFilterHeaders: true });
    expect((escaped.targets.find((t) => t.id === 'c:image')!.source as typeof c).context.excludePatterns).toEqual(['sécret', '!Dockerfile']);
  });

  test('prefetch: every set of excludes has its own name, and each local source is prefetched once', () => {
    const plan = planRun(targets, [], undefined, { binding: 'prefetch', ignores: new Map([['a:image', ['*.log']], ['b:image', ['*.log']], ['c:image', []]]) });
    const names = plan.sessions[0]!.prefetch.map((l) => l.localName);
    expect(names).toHaveLength(4);
    expect(new Set(names).size).toBe(4);
    expect(names[0]).toMatch(/-x[0-9a-f]{12}$/);
    expect(names).toContain(localNameFor('ctx', '/ws/c'));
    expect(formatPlan(plan)).toContain('    prefetched first: ');
  });

  test('prepared inputs send only the context paths the Dockerfiles read: the union per local source, the Dockerfile inside its context included', () => {
    const contextPaths = new Map<string, string[] | undefined>([['a:image', ['dist/a', 'package.json']], ['b:image', ['dist/b', 'package.json']], ['c:image', ['src']]]);
    for (const binding of ['frontend-inputs', 'prefetch'] as const) {
      const plan = planRun(targets, [], undefined, { binding, ignores: new Map(), contextPaths });
      const context = (id: string) => (plan.targets.find((t) => t.id === id)!.source as Extract<PlannedSource, { kind: 'frontend-inputs' }>).context;
      expect(context('a:image')).toEqual({ localName: localNameFor('ctx', '/ws/shared'), excludePatterns: [], followPaths: ['dist/a', 'dist/b', 'package.json'] });
      expect(context('b:image')).toEqual(context('a:image'));
      expect(context('c:image').followPaths).toEqual(['Dockerfile', 'src']);
      if (binding === 'prefetch') expect(plan.sessions[0]!.prefetch.filter((l) => l.localName === localNameFor('ctx', '/ws/shared'))).toHaveLength(1);
    }
    expect(formatPlan(planRun(targets, [], undefined, { binding: 'frontend-inputs', ignores: new Map(), contextPaths }))).toContain('followpaths [dist/a, dist/b, package.json]');
  });

  test('a context no Dockerfile reads from is not prefetched', () => {
    const plan = planRun(targets, [], undefined, { binding: 'prefetch', ignores: new Map(), contextPaths: new Map([['a:image', []], ['b:image', []], ['c:image', []]]) });
    const names = plan.sessions[0]!.prefetch.map((l) => l.localName);
    expect(names).not.toContain(localNameFor('ctx', '/ws/shared'));
    expect(names).toContain(localNameFor('df', '/ws/apps/a'));
    // c's Dockerfile lies in its context: the context is fetched, for the Dockerfile alone.
    expect(plan.sessions[0]!.prefetch.find((l) => l.localName === localNameFor('ctx', '/ws/c'))?.followPaths).toEqual(['Dockerfile']);
  });

  test('one reader of the whole context (or of unknown paths), or nothing known: the whole directory is sent', () => {
    for (const contextPaths of [new Map([['a:image', ['dist/a']], ['b:image', undefined]]), new Map([['a:image', ['dist/a']]]), undefined]) {
      const plan = planRun(targets, [], undefined, { binding: 'frontend-inputs', ignores: new Map(), ...(contextPaths ? { contextPaths } : {}) });
      const a = plan.targets.find((t) => t.id === 'a:image')!.source as Extract<PlannedSource, { kind: 'frontend-inputs' }>;
      expect(a.context.followPaths).toBeUndefined();
    }
    const local = planRun(targets, [], undefined, { binding: 'local-sessionid', contextPaths: new Map([['a:image', ['dist/a']]]) });
    expect(JSON.stringify(local.targets)).not.toContain('dist/a');
  });

  test('unknown binding: no sessions planned, and the printed plan says so', () => {
    const plan = planRun(targets);
    expect(plan.sessions).toEqual([]);
    expect(formatPlan(plan)).toContain('shared sessions: not known');
  });
});
