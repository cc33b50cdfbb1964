/**
 * The main job: build the example with the resolved builder (explicit
 * NXBK_BUILDER, BUILDKIT_HOST, DOCKER_HOST or the default sockets), or, when
 * none answers, with a Docker engine started locally by e2e/daemons/up.sh.
 * The example's files go through our FileSync session, get a generated file
 * added by LLB, and come back through FileSend into examples/hello/dist/.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BuildkitClient, BuildkitError, FileSendProvider, FileSyncProvider, marshal, State } from '../plugin/buildkit/index';
import { daemonsHome } from '../e2e/support/daemons';

const root = path.join(import.meta.dir, '..');
const context = path.join(root, 'examples', 'hello', 'site');
const output = path.join(root, 'examples', 'hello', 'dist');

async function connect(): Promise<BuildkitClient> {
  try {
    return await BuildkitClient.connect({ address: process.env.NXBK_BUILDER });
  } catch (err) {
    if (process.env.NXBK_BUILDER || !(err instanceof BuildkitError)) throw err;
    console.log(`${err.message}\nstarting a local Docker engine (e2e/daemons/up.sh docker-28)…`);
    const up = spawnSync('bash', [path.join(root, 'e2e', 'daemons', 'up.sh'), 'docker-28'], { stdio: 'inherit' });
    if (up.status !== 0) throw new Error('could not start a local Docker engine');
    return BuildkitClient.connect({ address: `docker://${path.join(daemonsHome(), 'docker-28.sock')}` });
  }
}

await using client = await connect();
console.log(`builder: ${client.address.display} (${client.builder.source})`);
fs.rmSync(output, { recursive: true, force: true });
const sync = new FileSyncProvider({ site: { dir: context } });
const send = new FileSendProvider(new Map([[0, { kind: 'directory', dir: output }]]));
await using session = await client.openSession({ attachables: [sync, send] });
const stamp = `built at ${new Date().toISOString()} by nx-buildkit\n`;
const graph = State.scratch()
  .copy(State.local('site', { sessionId: session.id }), '/', '/', { copyDirContents: true })
  .mkfile('/BUILD-INFO', stamp);
const shown = new Set<string>();
await client.solve({ session: session.id, definition: marshal(graph), exporters: [{ type: 'local', attrs: {} }] }, {
  onStatus: (s) => {
    for (const v of s.vertexes) {
      if (!v.completed || shown.has(v.digest)) continue;
      shown.add(v.digest);
      console.log(`  ✓ ${v.name}${v.cached ? ' (cached)' : ''}`);
    }
  },
});
console.log(`sent ${sync.counters.filesSent} files (${sync.counters.bytesSent} bytes); output in ${path.relative(root, output)}:`);
for (const f of fs.readdirSync(output).sort()) console.log(`  ${f}`);
