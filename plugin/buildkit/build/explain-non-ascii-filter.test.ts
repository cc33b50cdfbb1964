import { describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../errors';
import { explainNonAsciiFilter } from './explain-non-ascii-filter';

function fixture(files: Record<string, string>): { contextDir: string; dockerfile: string; [Symbol.dispose](): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-non-ascii-'));
  for (const [name, text] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), text);
  return { contextDir: dir, dockerfile: path.join(dir, 'Dockerfile'), [Symbol.dispose]: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

const raw = (header: string) => new BuildkitError('internal', `failed to compute cache key: header key "${header}" contains value with non-printable ASCII characters`, { grpcCode: 13 });

describe('a daemon refusing non-ASCII filter headers (BuildKit before 0.12)', () => {
  test('exclude-patterns: names the ignore file and its non-ASCII patterns', async () => {
    using f = fixture({ Dockerfile: 'FROM scratch\nCOPY . /\n', '.dockerignore': '*.log\nnaïve/\n!keep-ü.txt\n' });
    const e = await explainNonAsciiFilter(raw('exclude-patterns'), f);
    expect(e.code).toBe('invalid-argument');
    expect(e.message).toBe(
      `this builder (BuildKit before 0.12) cannot pass context filter patterns with non-ASCII characters to the client (it said: header key "exclude-patterns" contains value with non-printable ASCII characters): ` +
        `${path.join(f.contextDir, '.dockerignore')}: "naïve", "!keep-ü.txt"; rename those paths or patterns to ASCII, or use BuildKit 0.12 or later`,
    );
  });

  test('followpaths: names the Dockerfile and its non-ASCII COPY sources', async () => {
    using f = fixture({ Dockerfile: 'FROM scratch\nCOPY --chown=1:1 héllo.txt plain.txt /dst/\nCOPY ["😀.txt", "/x/"]\n' });
    const e = await explainNonAsciiFilter(raw('followpaths'), f);
    expect(e.message).toContain(`${f.dockerfile}: COPY/ADD sources "héllo.txt", "😀.txt"; rename`);
  });

  test('any other error is returned as it is', async () => {
    using f = fixture({ Dockerfile: 'FROM scratch\n' });
    const other = new BuildkitError('internal', 'something else');
    expect(await explainNonAsciiFilter(other, f)).toBe(other);
  });
});
