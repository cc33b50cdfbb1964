/**
 * One side of the benchmark: build the generated context's Dockerfile with
 * our client (the RUN step bind-mounts the whole context, so all of it is
 * transferred; nothing is exported). Prints one JSON line: what our provider
 * sent, what the daemon reported receiving for the context (the same figure
 * buildx's progress shows), and this process's peak RSS.
 *
 * Usage: our-transfer.ts <docker://…|unix://…> <context dir> [grpc|docker]
 * Runs under Bun directly, or under Node once bundled (`bun build --target=node`).
 */
import { BuildkitClient, buildImage } from '../../plugin/buildkit/index';
import { ContextTransfer } from './context-transfer';

const [address, contextDir, transport] = process.argv.slice(2) as [string, string, string | undefined];
await using client = await BuildkitClient.connect({ address, sessionTransport: transport === 'docker' ? 'docker' : 'grpc' });
const transfer = new ContextTransfer();
const result = await buildImage(
  client,
  {
    name: 'bench',
    contextDir,
    dockerfile: `${contextDir}/Dockerfile`,
    network: 'none',
    auth: false,
    // A new shared key each run: the daemon must not reuse an earlier transfer.
    sharedKey: `bench-${Date.now()}`,
  },
  { onStatus: (s) => transfer.update(s) },
);
console.log(
  JSON.stringify({
    bytesSent: result.transfer.bytesSent,
    filesSent: result.transfer.filesSent,
    daemon: transfer.figures(),
    maxRssKb: process.resourceUsage().maxRSS,
  }),
);
