/**
 * One side of the benchmark: build the generated context's Dockerfile with
 * our client (the RUN step bind-mounts the whole context, so all of it is
 * transferred; nothing is exported). Prints one JSON line: elapsed ms, bytes
 * and files sent, peak RSS.
 */
import { BuildkitClient } from '../../plugin/buildkit/index';
import { buildImage } from '../../plugin/buildkit/build/build-image';

const [address, contextDir] = process.argv.slice(2) as [string, string];
await using client = await BuildkitClient.connect({ address });
const start = performance.now();
const result = await buildImage(client, {
  name: 'bench',
  contextDir,
  dockerfile: `${contextDir}/Dockerfile`,
  network: 'none',
  auth: false,
  // A new shared key each run: the daemon must not reuse an earlier transfer.
  sharedKey: `bench-${Date.now()}`,
});
const elapsedMs = performance.now() - start;
console.log(JSON.stringify({ elapsedMs, bytes: result.transfer.bytesSent, files: result.transfer.filesSent, maxRssKb: process.resourceUsage().maxRSS }));
