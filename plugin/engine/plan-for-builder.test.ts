import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageTarget } from './image-target';
import { planLinkedRun } from './links/plan-linked-run';
import { planForBuilder } from './plan-for-builder';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-plan-for-builder-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

/** A target whose context holds a Dockerfile and the given .dockerignore. */
function target(name: string, dockerignore: string): ImageTarget {
  const dir = path.join(root, name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM scratch\n');
  fs.writeFileSync(path.join(dir, '.dockerignore'), dockerignore);
  return { id: `${name}:image`, dependsOn: [], contextPolicy: 'shared', spec: { name, contextDir: dir, dockerfile: path.join(dir, 'Dockerfile') } };
}

describe('planning for a builder', () => {
  test('the ignore files become the excludes of frontend inputs; the daemon is asked about escaping only for a non-ASCII filter', async () => {
    let asked = 0;
    const escapes = async () => (asked++, true);
    const ascii = await planForBuilder(await planLinkedRun([target('plain', 'secret.txt\n')]), 'frontend-inputs', escapes);
    const source = ascii.targets[0]!.source;
    expect(source?.kind === 'frontend-inputs' && source.context.excludePatterns).toEqual(['secret.txt', '!Dockerfile']);
    expect(asked).toBe(0);
    const nonAscii = await planForBuilder(await planLinkedRun([target('accents', 'sécret.txt\n')]), 'frontend-inputs', escapes);
    expect(asked).toBe(1);
    const escaped = nonAscii.targets[0]!.source;
    expect(escaped?.kind === 'frontend-inputs' && escaped.context.excludePatterns).toEqual(['sécret.txt', '!Dockerfile']);
  });

  test('on local-sessionid the frontend reads the ignore file itself: nothing is asked, the plan has a session per context', async () => {
    let asked = 0;
    const plan = await planForBuilder(await planLinkedRun([target('one', 'sécret\n'), target('two', 'x\n')]), 'local-sessionid', async () => (asked++, true));
    expect(asked).toBe(0);
    expect(plan.sessions.map((s) => s.users)).toEqual([['one:image'], ['two:image']]);
    expect(plan.sessions.flatMap((s) => s.dirs).some((d) => d.excludes)).toBe(false);
  });

  test('prepared inputs carry the context paths the Dockerfiles read; a target FROM an image of the run with ONBUILD, or with no readable Dockerfile, gets the whole context', async () => {
    const withDockerfile = (name: string, dockerfile: string, dependsOn: string[] = []): ImageTarget => {
      const t = target(name, '');
      fs.writeFileSync(t.spec.dockerfile, dockerfile);
      return { ...t, dependsOn };
    };
    const targets = [
      withDockerfile('onbase', 'FROM scratch\nONBUILD COPY . /app\n'),
      withDockerfile('onapp', 'FROM onbase\nCOPY src /src\n', ['onbase:image']),
      withDockerfile('plainapp', 'FROM scratch\nCOPY src /src\n'),
      { ...target('nofile', ''), spec: { ...target('nofile', '').spec, dockerfile: path.join(root, 'nofile', 'Missing.Dockerfile') } },
    ];
    for (const binding of ['frontend-inputs', 'prefetch'] as const) {
      const plan = await planForBuilder(await planLinkedRun(targets), binding, async () => true);
      const followPaths = (id: string) => {
        const source = plan.targets.find((t) => t.id === id)!.source;
        return source?.kind === 'frontend-inputs' ? source.context.followPaths : 'no source';
      };
      expect(followPaths('plainapp:image')).toEqual(['Dockerfile', 'src']);
      expect(followPaths('onbase:image')).toBeUndefined();
      expect(followPaths('onapp:image')).toBeUndefined();
      expect(followPaths('nofile:image')).toBeUndefined();
    }
  });
});
