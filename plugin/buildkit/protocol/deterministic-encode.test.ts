import { describe, expect, test } from 'bun:test';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { encodeDeterministic } from './deterministic-encode';
import { messageType } from './root';

// Vectors produced by BuildKit's Go code (deterministic marshaling); shipped
// beside the repository in shared/testdata, copied into testdata/ here.
const dir = path.join(import.meta.dir, 'testdata', 'llb-go-encoding');
const cases = JSON.parse(fs.readFileSync(path.join(dir, 'cases.json'), 'utf8')) as Array<{ name: string; type: string; json: Record<string, unknown> }>;
const golden = JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as Record<string, { hex: string; digest: string }>;

describe('Go-identical deterministic encoding', () => {
  test('every case has a golden vector', () => {
    expect(cases.length).toBeGreaterThan(5);
    for (const c of cases) expect(golden[c.name]).toBeDefined();
  });
  for (const c of cases) {
    test(c.name, () => {
      const bytes = encodeDeterministic(messageType(c.type), c.json);
      expect(Buffer.from(bytes).toString('hex')).toBe(golden[c.name]!.hex);
      const digest = 'sha256:' + createHash('sha256').update(bytes).digest('hex');
      expect(digest).toBe(golden[c.name]!.digest);
    });
  }
});
