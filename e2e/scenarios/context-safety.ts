/**
 * Context safety against real daemons: the run's shared session serves the
 * directories the run planned and nothing else (however the daemon is asked:
 * unplanned, `..` or absolute local names, followpaths and include patterns
 * that climb out, symlinks pointing out), and context directories, Dockerfile
 * paths and file names with spaces and non-ASCII characters arrive byte for
 * byte through every way a context is served. Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { BuilderCapabilities, BuildkitClient, FileSendProvider, FileSyncProvider, marshal, State, type BuildSpec, type Session } from '../../plugin/buildkit/index';
import type { ImageTarget } from '../../plugin/engine/index';
import { runTargets, type RunReport } from '../../plugin/engine/index';
import { planRun } from '../../plugin/engine/index';
import { SharedSessions } from '../../plugin/engine/index';
import { readTree, tempDir, writeTree } from '../support/files';
import type { Scenario, ScenarioContext } from './foundation';

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });

function target(id: string, contextDir: string, dockerfile: string, out: string, extra: Partial<ImageTarget> = {}, spec: Partial<BuildSpec> = {}): ImageTarget {
  return { id, spec: { name: id, contextDir, dockerfile, network: 'none', auth: false, outputs: [{ type: 'local', dest: out }], ...spec }, dependsOn: [], contextPolicy: 'shared', ...extra };
}

function assertAllSucceeded(report: RunReport): void {
  for (const o of report.outcomes) assert.equal(o.status, 'succeeded', `${o.id}: ${'error' in o ? String((o.error as Error)?.message ?? o.error) : o.status}`);
}

/** Every regular file below `dir`, relative path → content. */
function filesUnder(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (abs: string, rel: string) => {
    for (const name of fs.readdirSync(abs)) {
      const a = path.join(abs, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(a);
      if (st.isDirectory()) walk(a, r);
      else if (st.isFile()) out.set(r, fs.readFileSync(a));
    }
  };
  if (fs.existsSync(dir)) walk(dir, '');
  return out;
}

export const contextSafetyScenarios: Scenario[] = [
  {
    name: 'the shared session serves only the planned directories: unplanned, `..` and absolute local names are refused; followpaths, include patterns and symlinks never bring outside files',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const secret = `OUTSIDE-${randomBytes(8).toString('hex')}`;
      const contextDir = path.join(tmp.dir, 'ws', 'app');
      writeTree(tmp.dir, { 'outside/secret.txt': secret, 'outside/deep/secret.txt': secret });
      writeTree(contextDir, {
        Dockerfile: 'FROM nxbk-base\nCOPY ok.txt /ok.txt\n',
        'ok.txt': 'ok\n',
        up: { symlink: '../../outside' },
        'abs-link': { symlink: path.join(tmp.dir, 'outside', 'secret.txt') },
      });
      await using client = await connect(ctx);
      const mechanism = await new BuilderCapabilities(client).binding();
      // Catch the shared session and its FileSync provider as the engine opens them.
      const openSession = client.openSession.bind(client);
      let shared: { session: Session; sync: FileSyncProvider } | undefined;
      client.openSession = async (options = {}) => {
        const session = await openSession(options);
        const sync = options.attachables?.find((a): a is FileSyncProvider => a instanceof FileSyncProvider);
        if (options.name === 'nx-buildkit-shared' && sync) shared = { session, sync };
        return session;
      };
      const targets = [target('app', contextDir, path.join(contextDir, 'Dockerfile'), path.join(tmp.dir, 'unused'))];
      await using sessions = await SharedSessions.open(client, planRun(targets, [], undefined, { binding: mechanism, ignores: new Map([['app', []]]) }), { sharedKey: `e2e-safety-${Date.now()}` });
      await sessions.acquire('app');
      assert.ok(shared, 'the shared session was opened');
      const planned = shared.sync.names;
      const sessionId = shared.session.id;

      // BuildKit ≤ 0.9 ignores `local.session`: there the shared session has to be the solve's own (as the
      // engine's prefetch does), which cannot receive an export; what it sent is then read from its counters.
      const asOwn = mechanism === 'prefetch';
      /** Solve `source` (read through the shared session) and export it through a session of our own. */
      const fetch = async (source: State): Promise<{ error?: Error; tree?: Record<string, string>; bytes: number; calls: number }> => {
        using out = tempDir();
        const exportDir = path.join(out.dir, 'x');
        await using own = await openSession({ attachables: [new FileSendProvider(new Map([[0, { kind: 'directory', dir: exportDir }]]))] });
        const graph = State.scratch().copy(source, '/', '/', { copyDirContents: true });
        const before = shared!.sync.counters.bytesSent;
        const callsBefore = shared!.sync.counters.diffCopyCalls;
        const moved = () => ({ bytes: shared!.sync.counters.bytesSent - before, calls: shared!.sync.counters.diffCopyCalls - callsBefore });
        try {
          if (asOwn) await client.solve({ session: sessionId, definition: marshal(graph) });
          else await client.solve({ session: own.id, definition: marshal(graph), exporters: [{ type: 'local', attrs: {} }] });
        } catch (err) {
          return { error: err as Error, ...moved() };
        }
        return { ...(asOwn ? {} : { tree: fs.existsSync(exportDir) ? readTree(exportDir) : {} }), ...moved() };
      };

      const served = shared.sync.counters.filesSent;
      for (const name of ['ctx-not-planned', `../${planned[0]}`, `${planned[0]}/..`, `/${planned[0]}`, contextDir, '/etc']) {
        const r = await fetch(State.local(name, { sessionId, unique: randomBytes(8).toString('hex') }));
        assert.ok(r.error, `${name}: refused`);
        // The refusal itself must reach the user, never a cancelled context (see refuse-diff-copy.ts).
        assert.match(r.error.message, /no access allowed to dir/, `${name}: ${r.error.message}`);
      }
      assert.equal(shared.sync.counters.filesSent, served, 'no file was sent for a refused name');

      const name = planned.find((n) => n === 'context' || n.startsWith('ctx-'))!;
      const insideBytes = ['Dockerfile', 'ok.txt'].reduce((n, f) => n + fs.statSync(path.join(contextDir, f)).size, 0);
      const escapes: Array<{ followPaths?: string[]; includePatterns?: string[] }> = [
        { followPaths: ['../../outside/secret.txt', path.join(tmp.dir, 'outside', 'secret.txt')] },
        { followPaths: ['up/secret.txt', 'up/deep/secret.txt', 'abs-link'] },
        { includePatterns: ['../**', '/**', 'up/**'] },
      ];
      for (const options of escapes) {
        const r = await fetch(State.local(name, { sessionId, ...options, differ: 'none', unique: randomBytes(8).toString('hex') }));
        assert.equal(r.error, undefined, `${JSON.stringify(options)}: ${r.error?.message}`);
        assert.ok(r.calls >= 1, `${JSON.stringify(options)}: the daemon asked the shared session`);
        assert.ok(r.bytes <= insideBytes, `${JSON.stringify(options)}: only files from inside were sent (${r.bytes} bytes)`);
        if (!r.tree) continue;
        assert.ok(!JSON.stringify(r.tree).includes(secret), `${JSON.stringify(options)}: nothing from outside arrived: ${JSON.stringify(r.tree)}`);
        for (const [p, what] of Object.entries(r.tree)) {
          if (p === 'up' || p === 'abs-link') assert.match(what, /^link -> /, `${p} arrived as the link it is`);
          else assert.ok(!p.startsWith('up/'), `nothing was read through the link: ${p}`);
        }
      }
      // The planned directory itself, whole: exactly the inside files, the links as links.
      const whole = await fetch(State.local(name, { sessionId, differ: 'none', unique: randomBytes(8).toString('hex') }));
      assert.equal(whole.error, undefined, whole.error?.message);
      // (BuildKit 0.8 answers this one from the cache its engine prefetch filled.)
      if (!asOwn) assert.equal(whole.bytes, insideBytes);
      if (whole.tree) {
        assert.equal(whole.tree.up, 'link -> ../../outside');
        assert.equal(whole.tree['abs-link'], `link -> ${path.join(tmp.dir, 'outside', 'secret.txt')}`);
        assert.equal(whole.tree['ok.txt'], 'file 644 ok\n');
        assert.ok(!JSON.stringify(whole.tree).includes(secret));
      }
    },
  },
  {
    name: 'context directories, Dockerfile paths and file names with spaces and non-ASCII characters arrive byte for byte (shared, Dockerfile outside the context, isolated)',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx dir', 'ünï côdé');
      const dockerfileDir = path.join(tmp.dir, 'döcker fïles', 'ñ ü');
      const binary = randomBytes(200 * 1024);
      const named = 'fïlé näme ✓ 😀.bin';
      const dockerfile = [
        'FROM nxbk-base AS build',
        `COPY ["${named}", "sub dir/ö ü.txt", "/named/"]`,
        'COPY . /all/',
        'RUN test -f "/named/ö ü.txt" && ! test -e "/all/ïgnörëd sécret.txt"',
        'FROM scratch',
        'COPY --from=build /named /named',
        'COPY --from=build /all /all',
        '',
      ].join('\n');
      writeTree(contextDir, {
        'sub dir/ö ü.txt': 'ö ü\n',
        'ïgnörëd sécret.txt': 'must not be sent\n',
        '.dockerignore': 'ïgnörëd sécret.txt\n',
        'dóckér fïlé/Dockerfile.ünï': dockerfile,
      });
      fs.writeFileSync(path.join(contextDir, named), binary);
      writeTree(dockerfileDir, { 'Dockerfile ñ': dockerfile });
      await using client = await connect(ctx);
      const out = (id: string) => path.join(tmp.dir, 'out', id);
      const targets = [
        target('inside', contextDir, path.join(contextDir, 'dóckér fïlé', 'Dockerfile.ünï'), out('inside')),
        target('outside-df', contextDir, path.join(dockerfileDir, 'Dockerfile ñ'), out('outside-df')),
        target('isolated', contextDir, path.join(dockerfileDir, 'Dockerfile ñ'), out('isolated'), { contextPolicy: 'isolated' }),
      ];
      const report = await runTargets(client, targets, { concurrency: 3, mode: 'keep-going', sharedKey: `e2e-names-${Date.now()}` });
      assertAllSucceeded(report);
      const expected = filesUnder(contextDir);
      expected.delete('ïgnörëd sécret.txt');
      for (const t of targets) {
        const got = filesUnder(out(t.id));
        assert.ok(got.get(`named/${named}`)?.equals(binary), `${t.id}: ${named} arrived byte for byte`);
        assert.equal(got.get('named/ö ü.txt')?.toString(), 'ö ü\n', `${t.id}: the spaced name arrived`);
        const all = new Map([...got].filter(([p]) => p.startsWith('all/')).map(([p, b]) => [p.slice(4), b]));
        assert.deepEqual([...all.keys()].sort(), [...expected.keys()].sort(), `${t.id}: the whole context minus the ignored file`);
        for (const [p, b] of expected) assert.ok(all.get(p)?.equals(b), `${t.id}: ${p} byte for byte`);
      }
    },
  },
];
