import { expect, test } from 'bun:test';
import fs from 'node:fs';
import path from 'node:path';
import { generateAll } from './generate';

test('generated protocol code is up to date with proto/ (run `bun run gen:proto`)', () => {
  const repoRoot = path.join(import.meta.dir, '..');
  for (const [file, expected] of Object.entries(generateAll())) {
    const actual = fs.readFileSync(path.join(repoRoot, file), 'utf8');
    expect({ file, upToDate: actual === expected }).toEqual({ file, upToDate: true });
  }
});
