import fs from 'node:fs/promises';
import type { ImageTarget } from '../image-target';

/**
 * The Dockerfile text of every target, by target id, read once per file.
 * A file that cannot be read is left out: it has no references to link,
 * and the target's own build reports the unreadable file with its path.
 */
export async function readDockerfiles(targets: readonly ImageTarget[]): Promise<Map<string, string>> {
  const byPath = new Map<string, Promise<string | undefined>>();
  const out = new Map<string, string>();
  for (const t of targets) {
    if (t.spec.dockerfileText !== undefined) {
      out.set(t.id, t.spec.dockerfileText);
      continue;
    }
    let text = byPath.get(t.spec.dockerfile);
    if (!text) byPath.set(t.spec.dockerfile, (text = fs.readFile(t.spec.dockerfile, 'utf8').catch(() => undefined)));
    const value = await text;
    if (value !== undefined) out.set(t.id, value);
  }
  return out;
}
