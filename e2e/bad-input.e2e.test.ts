import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BuildkitClient } from '../plugin/buildkit/index';
import { buildkitMinor } from './support/buildkit-minor';
import { e2eEnvironment, nxBuilders } from './support/daemons';
import { tempDir, writeTree } from './support/files';
import { createFixtureWorkspace } from './support/fixture-workspace';
import type { NxWorkspace } from './support/nx-workspace';

// The bad-input matrix: one table, each row one kind of bad input, run
// through the real Nx CLI (under Node) and the nx-buildkit:image executor on
// one fixture workspace. The workspace has a project `bad`, which each row
// breaks in one way, and a GOOD sibling `good`. Per row: the command fails
// within a bound; the failing task's own log (what Nx prints under
// "> nx run bad:image", and caches) holds exactly one error for the bad
// thing, naming project, target and the field or file, with no stack trace,
// no "[object Object]" and no repeat (Nx also streams the batch worker's
// live log; there a failed step's ERROR line may state it once more, as the
// build went on); and either the good sibling still builds (failures of one
// target) or nothing is built and the message says so (failures caught
// before anything starts: options, builder address, TLS files). A builder
// that cannot be reached is the run's: every target fails, once each.

const env = e2eEnvironment();
// One Docker engine (the classic-store one keeps the images local: no exporter,
// no push) runs every row; a standalone buildkitd the rows that reach the
// builder the workspace names ('target'): the others are refused before any
// daemon is asked, or name their own builder.
const builders = nxBuilders((d) => d.imageStore !== 'containerd');
const registry = env.registryAuth;

/** How a row's failure is contained. */
type Scope =
  /** The graph itself is refused (nx.json): no task runs at all. */
  | 'graph'
  /** Only the bad target fails; `good` builds in the same run. */
  | 'target'
  /** The run's builder is bad: every target fails, each once, with the same message. */
  | 'run';

interface Row {
  name: string;
  scope: Scope;
  /** Options of `bad:image`, files to write (restored afterwards), nx.json plugin options, extra CLI args (PORT = a port that accepts connections). */
  options?: Record<string, unknown>;
  files?: Record<string, string>;
  pluginOptions?: Record<string, unknown>;
  args?: string[];
  /** Where a failing task's error starts; it runs to the next blank line. Exactly one per failing task. */
  error: RegExp;
  /** What the error states: once in each failing task's log ('graph': once in all), never repeated. */
  statement: string[];
  /** Further words the error must contain (names of files, hosts, images). */
  names?: string[];
  /** A command line no process may have once the run is over (what the bad input started). */
  leavesNoProcess?: string;
  /**
   * Where the daemon locates the error (errdefs.Source, BuildKit 0.13 and later): lines the failing
   * task's error must show, like buildx. Older daemons (Docker 20.10's BuildKit 0.8) send no location:
   * there the error is their message alone, which must contain `unlocated`.
   */
  located?: { lines: string[]; unlocated: string };
  /** Wall-clock bound of the whole nx run. */
  withinMs: number;
  skip?: string;
}

const wrongPasswordConfig = registry ? JSON.stringify({ auths: { [registry.address]: { auth: Buffer.from(`${registry.username}:wrong-password-4711`).toString('base64') } } }) : '{}';
const helperConfig = (helper: string) => JSON.stringify({ credHelpers: registry ? { [registry.address]: helper } : {} });
// `pull: true`: the engine has this image locally, and would otherwise not ask the registry at all.
const fromAuthRegistry = registry ? `FROM ${registry.address}/nxbk-base:latest\nRUN true\n` : '';
const noRegistry = registry ? {} : { skip: 'no authenticated registry (registryAuth of e2e/daemons/up.sh)' };
// A sleep no other process on the machine runs, so the test can tell whether the helper was killed.
const hangingSleep = 'sleep 2999';
const failedLine = /^\[bad\] failed: bad:image: /gm;
/** Rows refused by the option checks before the task starts: the message says it was not built, and it comes fast. */
const notBuilt = { error: /^invalid options, not built:$/gm, withinMs: 60_000 };

const rows: Row[] = [
  {
    name: 'nx.json plugin options: wrong type',
    scope: 'graph',
    pluginOptions: { targetName: 5 },
    error: /invalid nx-buildkit plugin options in nx.json:/gm,
    statement: ['nx-buildkit plugin option "targetName": Invalid input: expected string, received number'],
    withinMs: 30_000,
  },
  {
    name: 'nx.json plugin options: unknown key',
    scope: 'graph',
    pluginOptions: { dockerfilePattern: ['**/Dockerfile'] },
    error: /invalid nx-buildkit plugin options in nx.json:/gm,
    statement: ['nx-buildkit plugin option "dockerfilePattern": unknown option'],
    withinMs: 30_000,
  },
  {
    name: 'executor options of wrong types (several fields)',
    scope: 'target',
    options: { load: 'yes', concurrency: 'four', tags: 'latest', buildArgs: ['A=1'] },
    ...notBuilt,
    statement: [
      'bad:image: option "load": Invalid input: expected boolean, received string',
      'bad:image: option "concurrency": Invalid input: expected number, received string',
      'bad:image: option "tags": Invalid input: expected array, received string',
      'bad:image: option "buildArgs": Invalid input: expected record, received array',
    ],
  },
  {
    name: 'unknown Dockerfile target stage',
    scope: 'target',
    options: { target: 'no-such-stage' },
    error: failedLine,
    statement: ['target stage "no-such-stage" could not be found'],
    withinMs: 60_000,
  },
  {
    name: 'Dockerfile syntax error',
    scope: 'target',
    files: { 'bad/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\nRUNN nothing\nCOPY hello.txt /again.txt\n' },
    error: failedLine,
    statement: ['unknown instruction: RUNN'],
    located: {
      lines: ['Dockerfile:3\n--------------------\n   1 |     FROM nxbk-base:latest\n   2 |     COPY hello.txt /hello.txt\n   3 | >>> RUNN nothing\n   4 |     COPY hello.txt /again.txt\n--------------------'],
      unlocated: 'failed to create LLB definition: dockerfile parse error line 3: unknown instruction: RUNN',
    },
    withinMs: 60_000,
  },
  {
    name: 'missing Dockerfile',
    scope: 'target',
    options: { dockerfile: 'bad/Missing.Dockerfile' },
    error: failedLine,
    statement: ['Dockerfile WS/bad/Missing.Dockerfile does not exist'],
    withinMs: 60_000,
  },
  {
    name: 'unreachable builder address (nothing listening)',
    scope: 'run',
    args: ['--builder=tcp://127.0.0.1:9'],
    error: /^cannot reach a builder: /gm,
    statement: ['tcp://127.0.0.1:9 (option): cannot connect to 127.0.0.1:9'],
    withinMs: 30_000,
  },
  {
    // The test process is blocked while Nx runs: the kernel accepts the connection, nobody answers.
    name: 'builder that accepts connections but never answers (hangs)',
    scope: 'run',
    args: ['--builder=tcp://127.0.0.1:PORT'],
    error: /^cannot reach a builder: /gm,
    statement: ['tcp://127.0.0.1:PORT (option): ListWorkers on tcp://127.0.0.1:PORT: no answer within 5.0 s (deadline exceeded)'],
    withinMs: 30_000,
  },
  {
    name: 'invalid builder address (bad scheme)',
    scope: 'run',
    args: ['--builder=ftp://127.0.0.1:9'],
    ...notBuilt,
    statement: ['option "builder": invalid builder address "ftp://127.0.0.1:9": unknown scheme "ftp"'],
  },
  {
    name: 'TLS file missing',
    scope: 'target',
    options: { builder: 'tcp://127.0.0.1:9', builderTls: { caFile: 'tls/missing-ca.pem' } },
    ...notBuilt,
    statement: ['bad:image: option "builderTls.caFile": WS/tls/missing-ca.pem does not exist'],
  },
  {
    name: 'TLS file wrong (garbage PEM)',
    scope: 'target',
    options: { builder: 'tcp://127.0.0.1:9', builderTls: { caFile: 'tls/garbage.pem' } },
    files: { 'tls/garbage.pem': '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n' },
    ...notBuilt,
    statement: ['bad:image: option "builderTls.caFile": WS/tls/garbage.pem holds a PEM certificate that cannot be parsed'],
  },
  {
    name: 'registry that refuses auth (wrong password)',
    scope: 'target',
    options: { dockerConfig: 'auth/wrong-password', pull: true },
    files: { 'auth/wrong-password/config.json': wrongPasswordConfig, 'bad/Dockerfile': fromAuthRegistry },
    error: failedLine,
    statement: ['401 Unauthorized'],
    names: [`${registry?.address}/nxbk-base:latest`],
    withinMs: 60_000,
    ...noRegistry,
  },
  {
    name: 'malformed Docker config (invalid JSON)',
    scope: 'target',
    options: { dockerConfig: 'auth/malformed' },
    files: { 'auth/malformed/config.json': '{"auths": {"127.0.0.1:5001": {"auth": }}}' },
    error: failedLine,
    statement: ['invalid Docker config WS/auth/malformed/config.json: not valid JSON (unexpected "}")'],
    withinMs: 60_000,
  },
  {
    name: 'credential helper that exits non-zero',
    scope: 'target',
    options: { dockerConfig: 'auth/helper-fails', pull: true },
    files: { 'auth/helper-fails/config.json': helperConfig('nxbk-badinput-fails'), 'bad/Dockerfile': fromAuthRegistry },
    error: failedLine,
    statement: [`credential helper docker-credential-nxbk-badinput-fails failed for ${registry?.address} (exit code 3): keychain is locked`],
    withinMs: 60_000,
    ...noRegistry,
  },
  {
    name: 'credential helper that hangs',
    scope: 'target',
    options: { dockerConfig: 'auth/helper-hangs', pull: true, credentialHelperTimeoutMs: 1_500 },
    files: { 'auth/helper-hangs/config.json': helperConfig('nxbk-badinput-hangs'), 'bad/Dockerfile': fromAuthRegistry },
    error: failedLine,
    statement: [`credential helper docker-credential-nxbk-badinput-hangs did not answer for ${registry?.address} within 1500 ms`],
    leavesNoProcess: hangingSleep,
    withinMs: 30_000,
    ...noRegistry,
  },
];

if (builders.length === 0) test.skip('bad input matrix through nx-buildkit:image (skipped: no builder in the e2e environment)', () => {});
for (const builder of builders) describe(`bad input matrix through nx-buildkit:image (${builder.name})`, () => {
  let ws: NxWorkspace;
  let listener: net.Server;
  let port = 0;
  let minor = 0;
  const basePluginOptions = { options: { builder: builder.address, network: 'none', progress: 'plain' } };
  const badDockerfile = 'FROM nxbk-base:latest AS one\nCOPY hello.txt /hello.txt\n';
  const pristine: Record<string, string> = {
    'good/project.json': JSON.stringify({ name: 'good' }),
    'good/Dockerfile': 'FROM nxbk-base:latest\nCOPY hello.txt /hello.txt\n',
    'good/hello.txt': 'good\n',
    'bad/project.json': JSON.stringify({ name: 'bad' }),
    'bad/Dockerfile': badDockerfile,
    'bad/hello.txt': 'bad\n',
  };
  // Credential helpers the rows name, in a directory on the executor's PATH.
  const helpers = tempDir('nxbk-bad-input-helpers-');
  writeTree(helpers.dir, {
    'docker-credential-nxbk-badinput-fails': { content: '#!/bin/sh\necho "keychain is locked"\necho "stderr-not-for-users" >&2\nexit 3\n', mode: 0o755 },
    'docker-credential-nxbk-badinput-hangs': { content: `#!/bin/sh\nexec ${hangingSleep}\n`, mode: 0o755 },
  });

  beforeAll(async () => {
    // A port that accepts TCP connections and never answers: while Nx runs, this process is blocked in
    // spawnSync, so the kernel accepts connections and nobody reads them (a builder that hangs).
    listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as net.AddressInfo).port;
    {
      await using client = await BuildkitClient.connect({ address: builder.address });
      minor = await buildkitMinor(builder, client);
    }
    // The executor finds credential helpers on its PATH; the workspace's Nx runs see the environment of its creation.
    ws = createFixtureWorkspace(pristine, basePluginOptions, { PATH: `${helpers.dir}${path.delimiter}${process.env.PATH}` });
  });

  afterAll(() => {
    listener?.close();
    ws?.[Symbol.dispose]();
    helpers[Symbol.dispose]();
  });

  for (const row of builder.kind === 'docker' ? rows : rows.filter((r) => r.scope === 'target')) {
    const run = row.skip ? test.skip : test;
    run(`${row.name}${row.skip ? ` (skipped: ${row.skip})` : ''}`, () => {
      const metadata = (project: string) => path.join(ws.dir, 'dist/images', project, 'metadata.json');
      for (const p of ['good', 'bad']) fs.rmSync(metadata(p), { force: true });
      const restore: Record<string, string> = {};
      const write = (rel: string, text: string) => {
        const abs = path.join(ws.dir, rel);
        if (!(rel in restore)) restore[rel] = fs.existsSync(abs) ? fs.readFileSync(abs, 'utf8') : '\0missing';
        fs.mkdirSync(path.dirname(abs), { recursive: true });
        fs.writeFileSync(abs, text);
      };
      if (row.options) write('bad/project.json', JSON.stringify({ name: 'bad', targets: { image: { options: row.options } } }));
      for (const [rel, text] of Object.entries(row.files ?? {})) write(rel, text);
      if (row.pluginOptions) write('nx.json', JSON.stringify({ analytics: false, plugins: [{ plugin: 'nx-buildkit', options: { ...basePluginOptions, ...row.pluginOptions } }] }));
      const withPort = (text: string) => text.replaceAll('PORT', String(port));
      const args = (row.args ?? []).map(withPort);
      const statement = row.statement.map(withPort);
      const start = Date.now();
      let r;
      try {
        r = ws.nx('node', ['run-many', '-t', 'image', '--skip-nx-cache', '--output-style=static', ...args]);
      } finally {
        for (const [rel, text] of Object.entries(restore)) {
          if (text === '\0missing') fs.rmSync(path.join(ws.dir, rel));
          else fs.writeFileSync(path.join(ws.dir, rel), text);
        }
      }
      const ms = Date.now() - start;
      const out = (r.stdout + r.stderr).replaceAll(ws.dir, 'WS');
      const why = `${row.name}: exit ${r.status} after ${ms} ms\n${out}`;
      if (process.env.DEBUG_BAD_INPUT) console.log(why);
      // (1) the command fails, (4) within the bound.
      expect(r.status, why).not.toBe(0);
      expect(ms, why).toBeLessThan(row.withinMs);
      // (3) no stack trace, no unprintable object, and none of the test's secrets.
      expect(out, why).not.toMatch(/^\s+at .*:\d+:\d+\)?$/m);
      expect(out, why).not.toContain('[object Object]');
      expect(out, why).not.toContain('wrong-password-4711');
      expect(out, why).not.toContain('stderr-not-for-users');
      // (2) exactly one error per failing task, in that task's own log (what Nx prints under
      // "> nx run <task>"), naming what it must; each statement once there, and nowhere else but
      // at most once in the live worker log (a failed step's ERROR line as the build went on).
      const failing = row.scope === 'run' ? ['good:image', 'bad:image'] : row.scope === 'graph' ? [] : ['bad:image'];
      const errors = [...out.matchAll(row.error)].map((m) => {
        const end = out.indexOf('\n\n', m.index);
        return out.slice(m.index, end < 0 ? undefined : end);
      });
      expect(errors.length, why).toBe(Math.max(failing.length, 1));
      for (const [i, text] of errors.entries()) {
        for (const words of [...statement, ...(row.names ?? [])]) expect(text, why).toContain(words);
        if (failing[i]) expect(section(out, failing[i]!), why).toContain(text);
      }
      for (const words of statement) {
        const inLogs = failing.map((id) => count(section(out, id) ?? '', words));
        expect(inLogs, `"${words}" once in each failing task's log\n${why}`).toEqual(failing.map(() => 1));
        const elsewhere = count(out, words) - inLogs.reduce((a, b) => a + b, 0);
        expect(elsewhere, `"${words}" elsewhere\n${why}`).toBeLessThanOrEqual(row.scope === 'target' ? 1 : row.scope === 'graph' ? 1 : 0);
        if (row.scope === 'graph') expect(elsewhere, why).toBe(1);
      }
      if (row.located) {
        // From the daemon's status details; a daemon that sends none leaves its message as it is.
        if (minor >= 13) for (const lines of row.located.lines) expect(errors[0], why).toContain(lines);
        else {
          expect(errors[0], why).toContain(row.located.unlocated);
          expect(errors[0], why).not.toContain('>>>');
        }
      }
      if (row.leavesNoProcess) expect(processesRunning(row.leavesNoProcess), why).toEqual([]);
      // (5) nothing else affected.
      const built = (project: string) => fs.existsSync(metadata(project));
      expect(built('bad'), why).toBe(false);
      if (row.scope === 'target') {
        expect(built('good'), `the good sibling still builds\n${why}`).toBe(true);
        expect(section(out, 'good:image'), why).toContain('[good] built ');
        expect(out, why).toContain('Failed tasks:\n\n- bad:image\n\n');
      } else {
        expect(built('good'), `nothing is built\n${why}`).toBe(false);
        expect(out, why).not.toMatch(/\] built /);
        if (row.scope === 'graph') {
          expect(out, why).toContain('Failed to process project graph');
          expect(out, why).not.toContain('> nx run');
        }
      }
    }, 120_000);
  }
});

/** Non-overlapping occurrences of `text` in `out`. */
function count(out: string, text: string): number {
  return out.split(text).length - 1;
}

/** What Nx printed under "> nx run <task>" (the task's own log), up to the next task or Nx's summary. */
function section(out: string, task: string): string | undefined {
  const start = out.search(new RegExp(`^> nx run ${task.replace(':', '\\:')}\\b.*$`, 'm'));
  if (start < 0) return undefined;
  const rest = out.slice(start + 1);
  const end = rest.search(/^(> nx run |\s*NX {3}|\s+Run duration:)/m);
  return end < 0 ? rest : rest.slice(0, end);
}

/** PIDs of processes whose command line is `command` (words separated by spaces). */
function processesRunning(command: string): number[] {
  const wanted = command.split(' ').join('\0');
  return fs.readdirSync('/proc').filter((d) => /^\d+$/.test(d)).filter((pid) => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0$/, '') === wanted;
    } catch {
      return false; // gone meanwhile
    }
  }).map(Number);
}
