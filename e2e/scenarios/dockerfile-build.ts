/**
 * Single-target Dockerfile builds through `buildImage`: every step of a
 * multi-stage build must see exactly what it should, outputs land where
 * asked, and bad inputs fail clearly. Runtime-neutral (node:assert).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, BuildkitError, buildImage, type BuildSpec } from '../../plugin/buildkit/index';
import { e2eEnvironment, hasImageExporters } from '../support/daemons';
import { readTree, tempDir, writeTree } from '../support/files';
import { skip } from '../support/skip';
import type { Scenario, ScenarioContext } from './foundation';
import { failure, printed } from '../support/expect-failure';

const connect = (ctx: ScenarioContext) => BuildkitClient.connect({ address: ctx.daemon.address, sessionTransport: ctx.transport });
const env = () => e2eEnvironment();


/** A fresh ed25519 key file for SSH forwarding (served through a private agent by SshProvider). */
function sshKey(dir: string): string {
  const key = path.join(dir, 'id_ed25519');
  const r = spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', 'nxbk-e2e', '-f', key]);
  assert.equal(r.status, 0, `ssh-keygen failed: ${r.stderr}`);
  return key;
}

/** A Docker config dir whose `auths` hold these credentials for `registry`. */
function dockerConfig(dir: string, registry: string, username: string, password: string): string {
  const configDir = path.join(dir, 'docker-config');
  fs.mkdirSync(configDir, { recursive: true });
  const auth = Buffer.from(`${username}:${password}`).toString('base64');
  fs.writeFileSync(path.join(configDir, 'config.json'), JSON.stringify({ auths: { [registry]: { auth } } }));
  return configDir;
}

/** The manifest digest a registry serves for `repo:tag` (HEAD, like `docker buildx imagetools`). */
async function registryDigest(registry: string, repo: string, tag: string, auth?: { username: string; password: string }): Promise<string | null> {
  const headers: Record<string, string> = {
    Accept: [
      'application/vnd.oci.image.index.v1+json',
      'application/vnd.oci.image.manifest.v1+json',
      'application/vnd.docker.distribution.manifest.v2+json',
      'application/vnd.docker.distribution.manifest.list.v2+json',
    ].join(', '),
  };
  if (auth) headers.Authorization = `Basic ${Buffer.from(`${auth.username}:${auth.password}`).toString('base64')}`;
  const res = await fetch(`http://${registry}/v2/${repo}/manifests/${tag}`, { method: 'HEAD', headers });
  return res.ok ? res.headers.get('docker-content-digest') : null;
}

/** What the multi-stage scenario builds: a context, a named context, a secret and an SSH key. */
function multiStageFixture(root: string) {
  const outside = path.join(root, 'outside-secret.txt');
  fs.writeFileSync(outside, 'OUTSIDE CONTENT MUST NOT LEAK\n');
  const context = path.join(root, 'context');
  writeTree(context, {
    'app/main.txt': 'main\n',
    'app/sub/x.txt': 'x\n',
    'notes.log': 'ignored by .dockerignore\n',
    'keep.log': 're-included by !keep.log\n',
    'build/artifact.bin': 'ignored directory\n',
    'link-out': { symlink: outside },
    '.dockerignore': '*.log\n!keep.log\nbuild\n',
    Dockerfile: [
      'FROM nxbk-base AS base',
      'COPY app /app',
      'COPY --from=shared shared.txt /app/shared.txt',
      'RUN --mount=type=secret,id=token cat /run/secrets/token > /app/token.txt',
      'RUN --mount=type=ssh test -S "$SSH_AUTH_SOCK" && echo ssh-agent-mounted > /app/ssh.txt',
      'COPY . /ctx',
      'FROM scratch',
      'COPY --from=base /app /app',
      'COPY --from=base /ctx /ctx',
      '',
    ].join('\n'),
  });
  const shared = path.join(root, 'shared');
  writeTree(shared, { 'shared.txt': 'from the named context\n' });
  return { context, shared, keyFile: sshKey(root) };
}

/**
 * How long the bad-inputs scenario's six refusals may take together: each is refused before
 * or at its first step (4–6 s for all of them on every engine here); the bound leaves room
 * for a loaded 2-core machine and stays well below the test's 60 s timeout
 * (e2e/dockerfile-build.e2e.test.ts), so a slow refusal fails here, named.
 */
const failuresBoundMs = 30_000;

export const dockerfileBuildScenarios: Scenario[] = [
  {
    name: 'multi-stage Dockerfile: COPY, secret, SSH and a named context, each step sees exactly its inputs',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const fx = multiStageFixture(tmp.dir);
      const out = path.join(tmp.dir, 'out');
      await using client = await connect(ctx);
      const spec: BuildSpec = {
        name: 'multi-stage',
        contextDir: fx.context,
        dockerfile: path.join(fx.context, 'Dockerfile'),
        namedContexts: { shared: { kind: 'local', dir: fx.shared } },
        secrets: [{ id: 'token', value: 'token-value-1234' }],
        ssh: [{ id: 'default', paths: [fx.keyFile] }],
        network: 'none',
        auth: false,
        outputs: [{ type: 'local', dest: out }],
      };
      let named = true;
      const result = await buildImage(client, spec).catch(async (error: Error) => {
        // Dockerfile frontends before 1.4 (BuildKit 0.8 in Docker 20.10) have no named contexts:
        // buildImage refuses them clearly; the rest of the scenario runs without one.
        assert.ok(!(await client.control.info()), `only a BuildKit before 0.11 may refuse named contexts: ${error.message}`);
        assert.match(printed(error), /^multi-stage: named contexts \("shared"\) need Dockerfile frontend 1\.4 or later/);
        named = false;
        const dockerfile = fs.readFileSync(spec.dockerfile, 'utf8').replace(/^COPY --from=shared .*\n/m, '');
        fs.writeFileSync(spec.dockerfile, dockerfile);
        return buildImage(client, { ...spec, namedContexts: {} });
      });
      const tree = readTree(out);
      assert.equal(tree['app/main.txt'], 'file 644 main\n');
      assert.equal(tree['app/sub/x.txt'], 'file 644 x\n');
      assert.equal(tree['app/shared.txt'], named ? 'file 644 from the named context\n' : undefined);
      assert.equal(tree['app/token.txt'], 'file 644 token-value-1234');
      assert.equal(tree['app/ssh.txt'], 'file 644 ssh-agent-mounted\n');
      assert.equal(tree['ctx/keep.log'], 'file 644 re-included by !keep.log\n');
      assert.equal(tree['ctx/notes.log'], undefined, '.dockerignore *.log excluded notes.log');
      assert.equal(tree['ctx/build'], undefined, '.dockerignore excluded the build directory');
      assert.equal(tree['ctx/link-out'], `link -> ${path.join(tmp.dir, 'outside-secret.txt')}`, 'the symlink arrives as a link');
      const everything = Object.values(tree).join('\n');
      assert.ok(!everything.includes('OUTSIDE CONTENT MUST NOT LEAK'), 'the file outside the context never reached the build');
      assert.ok(result.transfer.diffCopyCalls >= 2, 'context and Dockerfile came through our FileSync');
    },
  },
  {
    name: 'tar, local and load outputs give the expected artifacts',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      writeTree(tmp.dir, { 'ctx/Dockerfile': 'FROM nxbk-base\nRUN echo built > /built.txt\nLABEL e2e=outputs\n' });
      const contextDir = path.join(tmp.dir, 'ctx');
      await using client = await connect(ctx);
      const base: BuildSpec = { name: 'outputs', contextDir, dockerfile: path.join(contextDir, 'Dockerfile'), network: 'none', auth: false };
      // A missing parent directory is created, as buildx does.
      const tarFile = path.join(tmp.dir, 'out', 'nested', 'rootfs.tar');
      await buildImage(client, { ...base, outputs: [{ type: 'tar', dest: tarFile }] });
      const listing = spawnSync('tar', ['-tf', tarFile], { encoding: 'utf8' }).stdout.split('\n');
      assert.ok(listing.includes('built.txt') && listing.includes('bin/busybox'), 'the tar holds the image filesystem');
      // A destination that cannot be written fails the build with the path, and the process lives on.
      fs.writeFileSync(path.join(tmp.dir, 'blocker'), 'a file, not a directory');
      const unwritable = await failure(buildImage(client, { ...base, outputs: [{ type: 'tar', dest: path.join(tmp.dir, 'blocker', 'rootfs.tar') }] }));
      assert.match(unwritable.message, /blocker/);

      const tag = `nxbk-e2e/load-${ctx.transport}:${Date.now()}`;
      const load = () => buildImage(client, { ...base, outputs: [{ type: 'load', names: [tag] }] });
      if (ctx.daemon.kind === 'docker') {
        const loaded = await load();
        const socket = ctx.daemon.address.replace(/^docker:\/\//, '');
        const inspect = spawnSync('curl', ['-fsS', '--unix-socket', socket, `http://d/images/${tag}/json`], { encoding: 'utf8' });
        assert.equal(inspect.status, 0, `the engine has ${tag}: ${inspect.stderr}`);
        const image = JSON.parse(inspect.stdout) as { Id: string; Config: { Labels: Record<string, string> } };
        assert.equal(image.Config.Labels.e2e, 'outputs');
        if (loaded.configDigest && ctx.daemon.imageStore !== 'containerd') assert.equal(image.Id, loaded.configDigest);
        spawnSync('curl', ['-fsS', '-X', 'DELETE', '--unix-socket', socket, `http://d/images/${tag}`]);
      } else {
        // buildkitd has no image store: a load streams the image into the Docker engine at
        // DOCKER_HOST (e2e/outputs.e2e.test.ts loads into one). With none answering there, it is
        // refused before anything is solved, saying where it looked.
        const saved = process.env.DOCKER_HOST;
        process.env.DOCKER_HOST = `unix://${path.join(tmp.dir, 'no-engine.sock')}`;
        try {
          assert.match((await failure(load())).message, /load needs a Docker engine to load the image into, and none answers at .*no-engine\.sock/);
        } finally {
          if (saved === undefined) delete process.env.DOCKER_HOST;
          else process.env.DOCKER_HOST = saved;
        }
      }

      // OCI and Docker image tarballs need an image store with those exporters.
      const ociFile = path.join(tmp.dir, 'image.oci.tar');
      const dockerFile = path.join(tmp.dir, 'image.docker.tar');
      const images = buildImage(client, { ...base, outputs: [{ type: 'oci', dest: ociFile, names: ['nxbk-e2e/oci:1'] }, { type: 'docker', dest: dockerFile, names: ['nxbk-e2e/docker:1'] }] });
      if (!hasImageExporters(ctx.daemon)) {
        assert.match((await failure(images)).message, /no "(oci|docker)" exporter/);
        return;
      }
      const result = await images;
      const oci = spawnSync('tar', ['-tf', ociFile], { encoding: 'utf8' }).stdout.split('\n');
      assert.ok(oci.includes('index.json') && oci.includes('oci-layout'), 'an OCI layout tarball');
      assert.ok(oci.includes(`blobs/sha256/${result.configDigest!.slice(7)}`), 'holding the config the solve reported');
      const docker = spawnSync('tar', ['-tf', dockerFile], { encoding: 'utf8' }).stdout.split('\n');
      assert.ok(docker.includes('manifest.json'), 'a docker load tarball');
    },
  },
  {
    name: 'push with credentials from a Docker config: the registry serves the digest the solve reported',
    perDaemon: true,
    async run(ctx) {
      const registryAuth = env().registryAuth;
      if (!registryAuth) skip('no authenticated test registry (registryAuth of e2e/daemons/up.sh)');
      using tmp = tempDir();
      writeTree(tmp.dir, { 'ctx/Dockerfile': `FROM nxbk-base\nRUN echo ${Date.now()} > /stamp\n` });
      const contextDir = path.join(tmp.dir, 'ctx');
      const repo = `nxbk-e2e/push-${ctx.daemon.name}-${ctx.transport}`;
      const tag = String(Date.now());
      await using client = await connect(ctx);
      const spec: BuildSpec = {
        name: 'push',
        contextDir,
        dockerfile: path.join(contextDir, 'Dockerfile'),
        network: 'none',
        auth: { configDir: dockerConfig(tmp.dir, registryAuth.address, registryAuth.username, registryAuth.password) },
        outputs: [{ type: 'image', names: [`${registryAuth.address}/${repo}:${tag}`], push: true, insecure: true }],
      };
      // Classic-store engines push through the engine itself (its moby exporter stores the image,
      // then POST /images/…/push with this build's credentials); the others with BuildKit's image exporter.
      const result = await buildImage(client, spec);
      assert.match(result.digest ?? '', /^sha256:[0-9a-f]{64}$/);
      assert.equal(await registryDigest(registryAuth.address, repo, tag, registryAuth), result.digest);
      if (ctx.daemon.imageStore === 'classic') {
        // An image index cannot come from the classic store: refused before the build, saying what would work.
        const multi = await failure(buildImage(client, { ...spec, platforms: ['linux/amd64', 'linux/arm64'] }));
        assert.match(printed(multi), /^push: cannot push a multi-platform image \(linux\/amd64, linux\/arm64\) from a Docker engine with the classic image store.*containerd image store, or a standalone buildkitd/);
      }

      // The same through a credential helper (docker-credential-<name> on the helper PATH).
      const bin = path.join(tmp.dir, 'bin');
      fs.mkdirSync(bin);
      const helper = path.join(bin, 'docker-credential-nxbk-e2e');
      const answer = JSON.stringify({ ServerURL: registryAuth.address, Username: registryAuth.username, Secret: registryAuth.password });
      fs.writeFileSync(helper, `#!/bin/sh\nread server\necho "$server" >> "${path.join(tmp.dir, 'helper-calls')}"\necho '${answer}'\n`, { mode: 0o755 });
      const helperConfig = path.join(tmp.dir, 'helper-config');
      fs.mkdirSync(helperConfig);
      fs.writeFileSync(path.join(helperConfig, 'config.json'), JSON.stringify({ credHelpers: { [registryAuth.address]: 'nxbk-e2e' } }));
      fs.writeFileSync(path.join(contextDir, 'Dockerfile'), `FROM nxbk-base\nRUN echo helper-${Date.now()} > /stamp\n`);
      const viaHelper = await buildImage(client, {
        ...spec,
        auth: { configDir: helperConfig, env: { PATH: `${bin}:${process.env.PATH}`, HOME: tmp.dir } },
        outputs: [{ type: 'image', names: [`${registryAuth.address}/${repo}:${tag}-helper`], push: true, insecure: true }],
      });
      assert.equal(await registryDigest(registryAuth.address, repo, `${tag}-helper`, registryAuth), viaHelper.digest);
      assert.ok(fs.readFileSync(path.join(tmp.dir, 'helper-calls'), 'utf8').includes(registryAuth.address), 'the helper was asked');
    },
  },
  {
    name: 'bad inputs fail clearly: missing secret, unreadable secret file, unknown SSH id, bad credentials, missing Dockerfile',
    perDaemon: true,
    async run(ctx) {
      using tmp = tempDir();
      const contextDir = path.join(tmp.dir, 'ctx');
      writeTree(contextDir, {
        'secret.Dockerfile': 'FROM nxbk-base\nRUN --mount=type=secret,id=needed,required=true cat /run/secrets/needed\n',
        'ssh.Dockerfile': 'FROM nxbk-base\nRUN --mount=type=ssh,id=nope,required=true true\n',
        'pull.Dockerfile': `FROM ${env().registryAuth?.address ?? '127.0.0.1:5001'}/nxbk-base:latest\nRUN true\n`,
      });
      await using client = await connect(ctx);
      const spec = (dockerfile: string): BuildSpec => ({ name: 'bad', contextDir, dockerfile: path.join(contextDir, dockerfile), network: 'none', auth: false });
      const started = Date.now();

      const missingSecret = await failure(buildImage(client, spec('secret.Dockerfile')));
      assert.match(printed(missingSecret), /^bad: .*secret needed.*not found/s);

      const unreadable = await failure(buildImage(client, { ...spec('secret.Dockerfile'), secrets: [{ id: 'needed', file: path.join(tmp.dir, 'no-such-file') }] }));
      assert.ok(unreadable instanceof BuildkitError);
      assert.match(unreadable.message, /needed/);
      assert.match(unreadable.message, /no-such-file/);

      // No SSH forwarding at all: the session has no SSH service, and the daemon says so itself.
      const noSsh = await failure(buildImage(client, spec('ssh.Dockerfile')));
      assert.match(printed(noSsh), /^bad: .*no SSH key "nope" forwarded from the client/s);
      // Forwarding, but not this id: our provider refuses it.
      const unknownSsh = await failure(buildImage(client, { ...spec('ssh.Dockerfile'), ssh: [{ id: 'default', paths: [sshKey(tmp.dir)] }] }));
      assert.match(printed(unknownSsh), /^bad: .*unset ssh forward key nope/s);

      const registryAuth = env().registryAuth;
      if (registryAuth) {
        const configDir = dockerConfig(tmp.dir, registryAuth.address, registryAuth.username, 'wrong-password-1234');
        const badCreds = await failure(buildImage(client, { ...spec('pull.Dockerfile'), pull: true, auth: { configDir } }));
        assert.match(badCreds.message, /401 Unauthorized/);
        assert.ok(!badCreds.message.includes('wrong-password-1234'), 'the password is not in the message');
      }

      const missingDockerfile = await failure(buildImage(client, spec('Nope.Dockerfile')));
      assert.match(printed(missingDockerfile), /^bad: Dockerfile .*Nope\.Dockerfile does not exist$/);
      const took = Date.now() - started;
      assert.ok(took < failuresBoundMs, `all failures came back within ${failuresBoundMs / 1000} s (took ${took} ms)`);
    },
  },
];
