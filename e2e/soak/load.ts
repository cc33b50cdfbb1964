/**
 * Load test of the multi-target engine against one real daemon: N targets
 * at a concurrency limit, every one a real Dockerfile build with its own
 * RUN step and a local export. Checks what must hold however big the run:
 * every target succeeds, open file descriptors and sessions return to their
 * baseline, the process's peak RSS stays under a bound, every target got
 * progress (no lost Status streams, no "job not found"). Prints one JSON
 * line of numbers; exits non-zero when a check fails.
 *
 *   bun e2e/soak/load.ts [--targets 50] [--concurrency 4] [--daemon docker-28] [--contexts 5] [--max-rss-mb 300]
 *
 * Runtime-neutral; not part of the default test run (a 50-target run takes
 * about a minute, 200 several). A trimmed version runs in e2e/faults.e2e.test.ts.
 */
import { e2eEnvironment } from '../support/daemons';
import { runLoad, type LoadOptions } from './run-load';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
}

const env = e2eEnvironment();
const daemonName = arg('daemon', env.daemons[0]?.name ?? 'docker-28');
const daemon = env.daemons.find((d) => d.name === daemonName);
if (!daemon) throw new Error(`no daemon ${daemonName} in the e2e environment (${env.daemons.map((d) => d.name).join(', ')})`);
const options: LoadOptions = {
  address: daemon.address,
  targets: Number(arg('targets', '50')),
  concurrency: Number(arg('concurrency', '4')),
  contexts: Number(arg('contexts', '5')),
};
const maxRssMb = Number(arg('max-rss-mb', '300'));

const result = await runLoad(options);
const problems = [...result.problems];
if (result.peakRssMb > maxRssMb) problems.push(`peak RSS ${result.peakRssMb} MB is above ${maxRssMb} MB`);
console.log(JSON.stringify({ daemon: daemon.name, runtime: process.versions.bun ? `bun ${process.versions.bun}` : `node ${process.versions.node}`, ...options, ...result, problems }));
process.exitCode = problems.length ? 1 : 0;
