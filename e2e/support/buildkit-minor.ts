import type { BuildkitClient } from '../../plugin/buildkit/index';
import type { E2eDaemon } from './daemons';
import { engineRequest } from './engine-images';

/**
 * The BuildKit a Docker engine embeds, by the engine's major version, for
 * engines whose BuildKit does not report its own (Debian's builds say
 * `v0.0.0+unknown`; see docs on the e2e daemons).
 */
const embeddedMinor: Record<number, number> = { 20: 8, 26: 13, 28: 25 };

/**
 * The minor version of the daemon's BuildKit (0.x), for assertions whose one
 * accepted outcome differs between generations: what the daemon reports
 * (`Control/Info`), else, on a Docker engine, what its version embeds.
 * A daemon without `Control/Info` (before 0.11) counts as 0.8: Docker 20.10's,
 * the only such BuildKit the suite runs against.
 */
export async function buildkitMinor(daemon: E2eDaemon, client: BuildkitClient): Promise<number> {
  const info = await client.control.info();
  if (!info) return 8;
  const own = /^v?0\.(\d+)\./.exec(info.version);
  if (own && own[1] !== '0') return Number(own[1]);
  if (daemon.kind !== 'docker') throw new Error(`${daemon.name} reports BuildKit "${info.version}": cannot tell its generation`);
  const answer = await engineRequest(daemon.address.replace(/^docker:\/\//, ''), 'GET', '/version');
  const major = Number(/^(\d+)\./.exec((JSON.parse(answer.body) as { Version?: string }).Version ?? '')?.[1]);
  const minor = embeddedMinor[major];
  if (minor === undefined) throw new Error(`${daemon.name}: Docker ${major} is not in the table of embedded BuildKit versions (e2e/support/buildkit-minor.ts)`);
  return minor;
}
