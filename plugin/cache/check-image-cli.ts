/**
 * `node <nx-buildkit>/dist/check-image.cjs [--docker-config <dir>] [--explain] <metadata file>`:
 * the runtime input of inferred image targets (plugin/nodes/image-target.ts).
 * Prints {@link checkPushedImage}'s stable value on stdout and nothing else
 * (Nx hashes stdout and stderr), and always exits 0: the value, not the
 * exit code, is the answer. `--explain` prints the reasons instead, for
 * people wondering why a target was not replayed from the cache.
 */
import { checkPushedImage } from './check-pushed-image';

async function main(argv: string[]): Promise<void> {
  let dockerConfigDir: string | undefined;
  let explain = false;
  const files: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--explain') explain = true;
    else if (arg === '--docker-config') dockerConfigDir = argv[++i];
    else files.push(arg);
  }
  if (files.length !== 1) {
    process.stdout.write('usage: check-image [--docker-config <dir>] [--explain] <metadata file>\n');
    return;
  }
  const result = await checkPushedImage(files[0]!, { ...(dockerConfigDir ? { dockerConfigDir } : {}), env: process.env });
  process.stdout.write((explain ? [result.value, ...result.details] : [result.value]).join('\n') + '\n');
}

main(process.argv.slice(2)).catch((err: unknown) => {
  // Unexpected: still a stable value (so the hash differs from `ok` and the target runs), and no stack in the hash.
  process.stdout.write(`unverified (check failed)\n`);
  if (process.argv.includes('--explain')) process.stdout.write(`${(err as Error).stack ?? String(err)}\n`);
});
