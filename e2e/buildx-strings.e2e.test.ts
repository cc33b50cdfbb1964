import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient } from '../plugin/buildkit/index';
import { e2eEnvironment, hasImageExporters } from './support/daemons';
import { registryTags } from './support/engine-images';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

// Options written as buildx's strings, as users copy them from buildx docs,
// through the real Nx CLI (under Node): a registry cache exported with
// `type=registry,ref=…,mode=max` to the test registry and imported again with
// `type=registry,ref=…` after the daemon forgot the step, two secrets
// (`id=…,env=…` and `id=…,src=…`) read by RUN steps, and a `type=local,dest=…`
// export holding what those steps wrote. On the builders that export a
// registry cache: a containerd-store engine and buildkitd.

const timeout = 180_000;
const env = e2eEnvironment();
const runId = randomBytes(4).toString('hex');
const builders = env.daemons.filter(hasImageExporters);
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

if (builders.length === 0 || !env.registry) {
  test.skip(`buildx string options (skipped: ${!env.registry ? 'needs the registry of e2e/daemons/up.sh' : 'no selected builder exports a registry cache (containerd-store engine or buildkitd)'})`, () => {});
}
for (const daemon of env.registry ? builders : []) {
  describe(`options in buildx's string form on ${daemon.name}`, () => {
    const registry = env.registry!;
    const tag = `${runId}-${daemon.name}`;
    const cacheRepo = `nxbk-e2e-csv/cache`;
    const cacheRef = `${registry}/${cacheRepo}:${tag}`;
    const token = `token-${randomBytes(12).toString('hex')}`;
    const npmrc = `//registry.example/:_authToken=${randomBytes(12).toString('hex')}\n`;
    let ws: NxWorkspace;
    const runs: Array<{ status: number | null; out: string }> = [];
    let pruned = 0;
    const exported = (dir: string, file: string) => fs.readFileSync(path.join(ws.dir, 'dist/out', dir, file), 'utf8');

    beforeAll(async () => {
      const options = {
        imageName: `nxbk-e2e-csv-${tag}`,
        // The base from the registry: an engine's local copy would key FROM differently from the imported cache.
        pull: true,
        secrets: ['id=token,env=NXBK_E2E_CSV_TOKEN', 'id=npmrc,src=app/npmrc.txt'],
        outputs: ['type=local,dest=dist/out/exported'],
        cacheTo: [`type=registry,ref=${cacheRef},mode=max,registry.insecure=true`],
      };
      const imported = { cacheTo: [], cacheFrom: [`type=registry,ref=${cacheRef},registry.insecure=true`], outputs: ['"type=local","dest=dist/out/imported"'] };
      ws = createFixtureWorkspace(
        {
          'app/project.json': JSON.stringify({ name: 'app', targets: { image: { options, configurations: { imported } } } }),
          'app/npmrc.txt': npmrc,
          'app/Dockerfile': [
            `FROM ${registry}/nxbk-base:latest`,
            // The run's tag in the steps: a secret's value is not in a step's cache key, so a long-lived daemon would
            // otherwise give back the result of an earlier run with other secret values.
            `RUN --mount=type=secret,id=token,required=true echo ${tag} >/dev/null && sha256sum /run/secrets/token | cut -d" " -f1 > /token.sha`,
            `RUN --mount=type=secret,id=npmrc,required=true echo ${tag} >/dev/null && sha256sum /run/secrets/npmrc | cut -d" " -f1 > /npmrc.sha`,
            `RUN echo ${tag} && head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \\n' > /random`,
            '',
          ].join('\n'),
        },
        { options: { builder: daemon.address, network: 'none', progress: 'plain' } },
        { NXBK_E2E_CSV_TOKEN: token },
      );
      const run = (args: string[]) => {
        const r = ws.nx('node', args);
        runs.push({ status: r.status, out: r.stdout + r.stderr });
      };
      run(['run', 'app:image', '--output-style=static']);
      // Forget the random step's local result (only it: other tests share the daemon), so that only the registry cache can give it back.
      await using client = await BuildkitClient.connect({ address: daemon.address });
      pruned = await client.control.prune({ all: true, filters: [`description~=${tag}`] });
      run(['run', 'app:image:imported', '--skip-nx-cache', '--output-style=static']);
    }, timeout * 2);

    afterAll(() => ws?.[Symbol.dispose]());

    test('both runs build', () => {
      for (const r of runs) expect(r.status, r.out).toBe(0);
    });

    test('id=…,env=… and id=…,src=… give the RUN steps those secrets, and no log shows them', () => {
      expect(exported('exported', 'token.sha')).toBe(`${sha256(token)}\n`);
      expect(exported('exported', 'npmrc.sha')).toBe(`${sha256(npmrc)}\n`);
      for (const r of runs) {
        expect(r.out).not.toContain(token);
        expect(r.out).not.toContain(npmrc.trim());
      }
    });

    test('type=registry,ref=…,mode=max exports the cache to the registry; type=registry,ref=… imports it after the daemon forgot the step', async () => {
      expect(await registryTags(registry, cacheRepo)).toContain(tag);
      expect(pruned, 'the local result of the random step was pruned').toBeGreaterThanOrEqual(1);
      expect(runs[1]!.out).toContain(`importing cache manifest from ${cacheRef}`);
      expect(exported('imported', 'random')).toMatch(/^[0-9a-f]{16}$/);
      expect(exported('imported', 'random')).toBe(exported('exported', 'random'));
    });
  });
}
