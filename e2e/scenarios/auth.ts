/**
 * Registry Auth scenarios: the daemon pulls from the htpasswd registry
 * started by e2e/daemons/up.sh (anonymous access refused) with credentials
 * our session's Auth attachable hands it, from a Docker config file or a
 * credential helper. Every pull uses `resolveMode: 'pull'`, so the daemon
 * contacts the registry each time instead of trusting its image cache.
 */
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { AuthProvider, BuildkitClient, BuildkitError, FileSendProvider, marshal, State } from '../../plugin/buildkit/index';
import { e2eEnvironment } from '../support/daemons';
import { tempDir } from '../support/files';
import { skip } from '../support/skip';
import type { Scenario, ScenarioContext } from './foundation';

const registry = e2eEnvironment().registryAuth;

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });

/** A Docker config dir (and a bin dir for helpers) in a temp dir, never the user's own. */
function dockerConfig(root: string, config: unknown): { configDir: string; binDir: string } {
  const configDir = path.join(root, 'docker-config');
  const binDir = path.join(root, 'bin');
  fs.mkdirSync(configDir, { recursive: true });
  fs.mkdirSync(binDir, { recursive: true });
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify(config));
  return { configDir, binDir };
}

const basicAuth = (username: string, password: string) => ({ auth: Buffer.from(`${username}:${password}`).toString('base64') });

/** What one pull-and-run build did. */
interface PullOutcome {
  /** The file the run step wrote, or the solve's error. */
  result: { ok: true; content: string } | { ok: false; error: Error };
  ms: number;
}

/**
 * Pull the base image from the authenticated registry, run a step on it
 * that writes a fresh random stamp, and export that file locally.
 */
async function pullAndRun(ctx: ScenarioContext, auth: AuthProvider, outDir: string): Promise<PullOutcome & { stamp: string }> {
  assert.ok(registry, 'registryAuth in daemons.json');
  const stamp = crypto.randomBytes(8).toString('hex');
  await using client = await connect(ctx);
  const send = new FileSendProvider(new Map([[0, { kind: 'directory', dir: outDir }]]));
  await using session = await client.openSession({ attachables: [auth, send] });
  const ran = State.image(`${registry.address}/nxbk-base:latest`, { resolveMode: 'pull' })
    .run({ args: ['sh', '-c', `echo ${stamp} > /stamp.txt`], network: 'none' });
  const graph = State.scratch().copy(ran, '/stamp.txt', '/stamp.txt');
  const start = Date.now();
  try {
    await client.solve({ session: session.id, definition: marshal(graph), exporters: [{ type: 'local', attrs: {} }] });
    return { stamp, ms: Date.now() - start, result: { ok: true, content: fs.readFileSync(path.join(outDir, 'stamp.txt'), 'utf8') } };
  } catch (error) {
    return { stamp, ms: Date.now() - start, result: { ok: false, error: error as Error } };
  }
}

function assertBuilt(outcome: PullOutcome & { stamp: string }): void {
  if (!outcome.result.ok) assert.fail(`the build failed: ${outcome.result.error.message}`);
  assert.equal(outcome.result.content, `${outcome.stamp}\n`, 'the run step on the pulled image wrote the stamp');
}

function assertRefused(outcome: PullOutcome, message: RegExp): Error {
  assert.ok(!outcome.result.ok, 'the build must fail');
  const { error } = outcome.result;
  assert.ok(error instanceof BuildkitError, 'a BuildkitError');
  assert.match(error.message, message);
  assert.ok(outcome.ms < 30_000, `failed within 30 s (took ${outcome.ms} ms)`);
  return error;
}

/** The daemon asked this session for the registry's credentials: the pull went through our Auth attachable. */
function assertAsked(auth: AuthProvider): void {
  assert.ok(registry);
  assert.ok(auth.credentialRequests.includes(registry.address), `the daemon asked for ${registry.address} (asked: ${auth.credentialRequests.join(', ') || 'nothing'})`);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The registry's refusal, as each daemon generation words it (BuildKit 0.8 differs from later ones). */
const unauthorized = /401 Unauthorized/;

const scenarios: Scenario[] = [
  {
    name: 'registry auth: pull with credentials from a Docker config file (auths)',
    perDaemon: true,
    async run(ctx) {
      using dir = tempDir();
      const { configDir } = dockerConfig(dir.dir, { auths: { [registry!.address]: basicAuth(registry!.username, registry!.password) } });
      // The config path is passed explicitly; process.env is left alone.
      const auth = await AuthProvider.fromDockerConfig({ configDir, env: {} });
      const outcome = await pullAndRun(ctx, auth, path.join(dir.dir, 'out'));
      assertBuilt(outcome);
      assertAsked(auth);
    },
  },
  {
    name: 'registry auth: pull with credentials from a credential helper on the given PATH',
    perDaemon: true,
    async run(ctx) {
      using dir = tempDir();
      const { configDir, binDir } = dockerConfig(dir.dir, { credHelpers: { [registry!.address]: 'nxbk-test' } });
      const log = path.join(dir.dir, 'helper.log');
      const answer = JSON.stringify({ ServerURL: registry!.address, Username: registry!.username, Secret: registry!.password });
      fs.writeFileSync(
        path.join(binDir, 'docker-credential-nxbk-test'),
        [
          '#!/bin/sh',
          `test "$1" = get || exit 2`,
          'read -r url',
          `echo "$url" >> '${log}'`,
          `if [ "$url" = '${registry!.address}' ]; then echo '${answer}'; else echo 'credentials not found in native keychain'; exit 1; fi`,
        ].join('\n') + '\n',
        { mode: 0o755 },
      );
      // Only the PATH given to the provider knows the helper.
      const auth = await AuthProvider.fromDockerConfig({ configDir, env: { PATH: `${binDir}:/usr/bin:/bin` } });
      const outcome = await pullAndRun(ctx, auth, path.join(dir.dir, 'out'));
      assertBuilt(outcome);
      assertAsked(auth);
      assert.deepEqual(fs.readFileSync(log, 'utf8').split('\n').filter(Boolean), [registry!.address], 'the helper ran once, asked for the registry host');
    },
  },
  {
    name: 'registry auth: wrong credentials fail the solve with the registry\'s 401, without hanging',
    perDaemon: true,
    async run(ctx) {
      using dir = tempDir();
      const wrong = `wrong-${crypto.randomBytes(6).toString('hex')}`;
      const { configDir } = dockerConfig(dir.dir, { auths: { [registry!.address]: basicAuth(registry!.username, wrong) } });
      const auth = await AuthProvider.fromDockerConfig({ configDir, env: {} });
      const error = assertRefused(await pullAndRun(ctx, auth, path.join(dir.dir, 'out')), unauthorized);
      assertAsked(auth);
      assert.ok(!error.message.includes(wrong), 'the password is not in the message');
    },
  },
  {
    name: 'registry auth: no credentials fail the solve with the registry\'s 401',
    perDaemon: true,
    async run(ctx) {
      using dir = tempDir();
      const { configDir } = dockerConfig(dir.dir, { auths: { 'other.example:5000': basicAuth('someone', 'not-for-this-registry') } });
      const auth = await AuthProvider.fromDockerConfig({ configDir, env: {} });
      assertRefused(await pullAndRun(ctx, auth, path.join(dir.dir, 'out')), unauthorized);
      assertAsked(auth); // asked, answered "anonymous"
    },
  },
  {
    name: 'registry auth: a failing credential helper fails the solve with a message naming it',
    perDaemon: true,
    async run(ctx) {
      using dir = tempDir();
      const { configDir, binDir } = dockerConfig(dir.dir, { credHelpers: { [registry!.address]: 'nxbk-broken' } });
      fs.writeFileSync(
        path.join(binDir, 'docker-credential-nxbk-broken'),
        '#!/bin/sh\necho "vault is sealed"\necho "stderr-must-not-leak" >&2\nexit 4\n',
        { mode: 0o755 },
      );
      const auth = await AuthProvider.fromDockerConfig({ configDir, env: { PATH: `${binDir}:/usr/bin:/bin` } });
      const error = assertRefused(
        await pullAndRun(ctx, auth, path.join(dir.dir, 'out')),
        new RegExp(`docker-credential-nxbk-broken failed for ${escape(registry!.address)} \\(exit code 4\\): vault is sealed`),
      );
      assert.ok(!error.message.includes('stderr-must-not-leak'), "the helper's stderr is not in the message");
    },
  },
  {
    name: 'registry auth: a hanging credential helper times out and fails the solve',
    perDaemon: true,
    async run(ctx) {
      using dir = tempDir();
      const { configDir, binDir } = dockerConfig(dir.dir, { credHelpers: { [registry!.address]: 'nxbk-hang' } });
      fs.writeFileSync(path.join(binDir, 'docker-credential-nxbk-hang'), '#!/bin/sh\nexec sleep 120\n', { mode: 0o755 });
      const auth = await AuthProvider.fromDockerConfig({ configDir, env: { PATH: `${binDir}:/usr/bin:/bin` }, helperTimeoutMs: 1_000 });
      assertRefused(await pullAndRun(ctx, auth, path.join(dir.dir, 'out')), new RegExp(`docker-credential-nxbk-hang did not answer for ${escape(registry!.address)} within 1000 ms`));
    },
  },
];

/**
 * The scenarios need the htpasswd registry that e2e/daemons/up.sh starts;
 * against an external builder (NXBK_E2E_BUILDER) there is none, so each is skipped.
 */
export const authScenarios: Scenario[] = registry
  ? scenarios
  : scenarios.map((s) => ({ ...s, run: async () => skip('no authenticated registry in this e2e environment (registryAuth comes from e2e/daemons/up.sh)') }));
