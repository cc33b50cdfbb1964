import { createHash } from 'node:crypto';
import path from 'node:path';

/** Stable ASCII-safe name for a directory: the same path gives the same name on every run and daemon. */
export function localNameFor(kind: 'ctx' | 'df', dir: string): string {
  return `${kind}-${createHash('sha256').update(path.resolve(dir)).digest('hex').slice(0, 20)}`;
}
