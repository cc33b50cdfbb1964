/**
 * Writes a synthetic build context: `files` files totalling about `bytes`,
 * in nested directories, mostly small files plus some large ones (like a
 * monorepo with sources and a few assets). Content is random (incompressible)
 * and deterministic for a given seed, so repeated runs measure the same thing.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface ContextShape {
  files: number;
  bytes: number;
}

/** A deterministic byte stream (SHA-256 in counter mode) for file contents. */
function fill(buf: Buffer, seed: string): void {
  for (let off = 0, n = 0; off < buf.length; off += 32, n++) {
    createHash('sha256').update(`${seed}:${n}`).digest().copy(buf, off, 0, Math.min(32, buf.length - off));
  }
}

/** Create the context under `dir` unless a marker says it already has this shape. */
export function generateContext(dir: string, shape: ContextShape): void {
  const marker = path.join(dir, '.bench-shape');
  const want = JSON.stringify(shape);
  if (fs.existsSync(marker) && fs.readFileSync(marker, 'utf8') === want) return;
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const large = Math.max(1, Math.floor(shape.files / 500));
  const largeBytes = Math.floor((shape.bytes * 0.75) / large);
  const smallBytes = Math.max(1, Math.floor((shape.bytes * 0.25) / (shape.files - large)));
  const block = Buffer.alloc(1 << 20);
  fill(block, 'block');
  for (let i = 0; i < shape.files; i++) {
    const rel = path.join(`pkg-${i % 50}`, `mod-${Math.floor(i / 50) % 40}`, `file-${i}.${i < large ? 'bin' : 'ts'}`);
    const abs = path.join(dir, rel);
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    const size = i < large ? largeBytes : smallBytes + (i % 7) * 64;
    const fd = fs.openSync(abs, 'w');
    // Unique head per file so no two files are identical, then the shared random block.
    const head = Buffer.from(`${i}\n`);
    fs.writeSync(fd, head);
    for (let written = head.length; written < size; ) {
      const n = Math.min(block.length, size - written);
      fs.writeSync(fd, block, (written * 7) % (block.length - n + 1), n);
      written += n;
    }
    fs.closeSync(fd);
  }
  fs.writeFileSync(path.join(dir, 'Dockerfile'), 'FROM nxbk-base\nRUN --mount=type=bind,target=/ctx test -d /ctx\n');
  fs.writeFileSync(marker, want);
}
