import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { imageLinkScenarios } from './scenarios/image-links';
import { nxBuilders } from './support/daemons';
import { imagesUnder, inspectImage, removeImagesUnder } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import { tempDir } from './support/files';
import type { NxWorkspace } from './support/nx-workspace';
import { describeScenarios } from './support/scenario-suites';

// The engine's sessions go over Control/Session; the Docker /session transport is covered by the foundation suite.
describeScenarios(imageLinkScenarios, { timeout: 120_000, title: 'image links' });

// The same through Nx: `run-many` with an image FROM another project's image,
// whose project neither pushes nor loads (its output is buildx's `cacheonly`,
// which also turns off a Docker engine's default load). The Nx CLI runs under
// Node (the executor under Bun is covered by the scenarios above). On a Docker
// engine (linked in its image store) and on buildkitd (an OCI layout of the run).
const builders = nxBuilders();
if (builders.length === 0) test.skip('nx run-many: an image FROM another project\'s image (skipped: no builder in the e2e environment)', () => {});
for (const docker of builders) describe(`nx run-many: an image FROM another project's image, neither pushed nor loaded (${docker.name})`, () => {
  const runId = randomBytes(4).toString('hex');
  const prefix = `nxbk-e2e-nx-links-${runId}`;
  const stamp = randomBytes(16).toString('hex');
  const sock = docker.kind === 'docker' ? docker.address.replace(/^docker:\/\//, '') : '';
  // The Nx runs' temp dir: where a builder without image store keeps the run's link layouts.
  const tmp = tempDir('nxbk-e2e-links-tmp-');
  let ws: NxWorkspace;

  beforeAll(() => {
    ws = createFixtureWorkspace(
      {
        // Project names unique to this file, so the link names (`nx-buildkit-link/linkbase-image:<run>`) are ours alone.
        'linkbase/project.json': JSON.stringify({ name: 'linkbase', targets: { image: { options: { imageName: `${prefix}/base`, outputs: [{ type: 'cacheonly' }] } } } }),
        'linkbase/Dockerfile': 'FROM nxbk-base:latest\nCOPY stamp.txt /stamp.txt\n',
        'linkbase/stamp.txt': `${stamp}\n`,
        'linkapp/project.json': JSON.stringify({
          name: 'linkapp',
          targets: { image: { options: { imageName: `${prefix}/app`, outputs: [{ type: 'local', dest: 'dist/out/linkapp' }] } } },
        }),
        'linkapp/Dockerfile': `FROM ${prefix}/base AS base\nRUN cat /stamp.txt > /seen\nFROM scratch\nCOPY --from=base /seen /seen\n`,
        // buildx bake's way: a named context `target:<project>` stands for that project's image of this run.
        'linkbake/project.json': JSON.stringify({
          name: 'linkbake',
          targets: { image: { options: { imageName: `${prefix}/bake`, namedContexts: { 'base-stage': 'target:linkbase' }, outputs: [{ type: 'local', dest: 'dist/out/linkbake' }] } } },
        }),
        'linkbake/Dockerfile': 'FROM base-stage AS base\nRUN cat /stamp.txt > /seen\nFROM scratch\nCOPY --from=base /seen /seen\n',
      },
      { options: { builder: docker.address, network: 'none', progress: 'plain' } },
      { TMPDIR: tmp.dir },
    );
  });

  afterAll(async () => {
    if (sock) await removeImagesUnder(sock, prefix);
    ws?.[Symbol.dispose]();
    tmp[Symbol.dispose]();
  });

  test('--print shows the link; the run builds linkapp on exactly the linkbase of this run and leaves no link behind', async () => {
    const printed = ws.nx('node', ['run-many', '-t', 'image', '--print', '--output-style=static']);
    expect(printed.status, printed.stdout + printed.stderr).toBe(0);
    expect(printed.stdout).toContain('linkapp:image FROM linkbase:image: linked in-daemon');
    expect(printed.stdout).toContain('linkbake:image FROM linkbase:image: linked in-daemon');
    // The plugin infers the task dependency from the `target:` named context.
    const bake = ws.nxJson<{ targets: { image: { dependsOn?: unknown } } }>('node', ['show', 'project', 'linkbake', '--json']);
    expect(bake.targets.image.dependsOn).toEqual([{ projects: ['linkbase'], target: 'image' }]);

    const r = ws.nx('node', ['run-many', '-t', 'image', '--skip-nx-cache', '--output-style=static']);
    const out = r.stdout + r.stderr;
    expect(r.status, out).toBe(0);
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/linkapp/seen'), 'utf8').trim()).toBe(stamp);
    expect(fs.readFileSync(path.join(ws.dir, 'dist/out/linkbake/seen'), 'utf8').trim()).toBe(stamp);
    // linkbase was neither loaded nor pushed: its metadata names only its own image.
    const metadata = JSON.parse(fs.readFileSync(path.join(ws.dir, 'dist/images/linkbase/metadata.json'), 'utf8')) as { imageNames: string[]; 'image.name': string };
    expect(metadata.imageNames).toEqual([`${prefix}/base:latest`]);
    expect(metadata['image.name']).not.toContain('nx-buildkit-link');
    if (sock) {
      // Its name is not in the engine, and no link name is left there.
      expect(await inspectImage(sock, `${prefix}/base:latest`)).toBeUndefined();
      expect(Object.keys(await imagesUnder(sock, 'nx-buildkit-link')).filter((n) => n.startsWith('nx-buildkit-link/linkbase-image:'))).toEqual([]);
    }
    // No layout of the run (buildkitd) or anything else of ours is left in the run's temp dir.
    expect(fs.readdirSync(tmp.dir).filter((n) => n.startsWith('nx-buildkit'))).toEqual([]);
  }, 180_000);
});
