import fs from 'node:fs/promises';
import path from 'node:path';

/**
 * Write `value` as indented JSON, atomically: a temporary file beside it,
 * then a rename, so a reader (Nx caching outputs, a dependant's hash) never
 * sees half a file. Missing directories are created.
 */
export async function writeJsonFile(file: string, value: unknown): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}`;
  await fs.writeFile(tmp, JSON.stringify(value, null, 2) + '\n');
  await fs.rename(tmp, file);
}
