import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dedupePaths, followLinks } from './follow-links';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-follow-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

/** A root inside `base` (which also holds an `outside` dir with content that must never be reached). */
function tree(name: string, spec: Record<string, string | { link: string } | null>): string {
  const root = path.join(base, name, 'root');
  fs.mkdirSync(root, { recursive: true });
  fs.mkdirSync(path.join(base, name, 'outside', 'sub'), { recursive: true });
  fs.symlinkSync('../../outside-target', path.join(base, name, 'outside', 'sub', 'escape'));
  for (const [rel, v] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(v === null ? abs : path.dirname(abs), { recursive: true });
    if (typeof v === 'string') fs.writeFileSync(abs, v);
    else if (v) fs.symlinkSync(v.link, abs);
  }
  return root;
}

describe('followLinks', () => {
  test('plain paths come back cleaned, sorted and deduplicated', async () => {
    const root = tree('plain', { 'a/b.txt': 'x', 'c.txt': 'x' });
    expect(await followLinks(root, ['./c.txt', 'a/b.txt', 'a', '/a/../c.txt', 'missing/file'])).toEqual(['a', 'c.txt', 'missing/file']);
  });
  test('the root itself means "no filter"', async () => {
    const root = tree('dot', { 'a.txt': 'x' });
    expect(await followLinks(root, ['a.txt', '.'])).toBeUndefined();
    expect(await followLinks(root, [''])).toBeUndefined();
  });
  test('links are followed component by component: relative to the link, absolute to the root', async () => {
    const root = tree('links', {
      'dir/real/file.txt': 'x',
      'dir/rel': { link: 'real' },
      'abs': { link: '/dir/real' },
      'chain': { link: 'dir/rel/file.txt' },
    });
    expect(await followLinks(root, ['dir/rel/file.txt'])).toEqual(['dir/real/file.txt', 'dir/rel']);
    expect(await followLinks(root, ['abs/file.txt'])).toEqual(['abs', 'dir/real/file.txt']);
    expect(await followLinks(root, ['chain'])).toEqual(['chain', 'dir/real/file.txt', 'dir/rel']);
  });
  test('targets never leave the root: `..` stops at the root, absolute targets are rooted in it', async () => {
    const root = tree('escape', {
      'up': { link: '../outside/sub' },
      'deep/up2': { link: '../../../../outside' },
      'pw': { link: '/etc/passwd' },
    });
    // `../outside/sub` from the root is `/outside/sub` inside it, which does not exist.
    expect(await followLinks(root, ['up/escape'])).toEqual(['outside/sub/escape', 'up']);
    expect(await followLinks(root, ['deep/up2/sub/escape'])).toEqual(['deep/up2', 'outside/sub/escape']);
    expect(await followLinks(root, ['pw'])).toEqual(['etc/passwd', 'pw']);
    // A request that climbs out names nothing inside the root and reads nothing outside it.
    expect(await followLinks(root, ['../outside/sub/escape'])).toEqual(['../outside/sub/escape']);
  });
  test('a path through a real directory outside the root is never listed', async () => {
    const root = tree('through', { 'link': { link: path.join(base, 'through', 'outside') } });
    // The link's target is rooted in the transfer root, so `outside/sub/escape` (a link outside) is not read.
    expect(await followLinks(root, ['link/sub/escape'])).toEqual(['link', path.join(base, 'through', 'outside', 'sub', 'escape').slice(1)]);
  });
  test('wildcards in a component expand to matching links', async () => {
    const root = tree('wild', { 'src/a.txt': 'x', 'src/b.txt': { link: '../data/b.txt' }, 'src/c.md': { link: 'nowhere' }, 'data/b.txt': 'x' });
    expect(await followLinks(root, ['src/*.txt'])).toEqual(['data/b.txt', 'src/*.txt']);
    expect(await followLinks(root, ['src/*.none'])).toEqual(['src/*.none']);
  });
  test('symlink loops end', async () => {
    const root = tree('loop', { 'a': { link: 'b' }, 'b': { link: 'a' }, 'self': { link: 'self/x' } });
    expect(await followLinks(root, ['a'])).toEqual(['a', 'b']);
    expect(await followLinks(root, ['self/y'])).toEqual(['self']);
  });
  test('hidden entries (client-side excludes) are not resolved', async () => {
    const root = tree('hidden', { 'secret-link': { link: 'secret' }, 'secret': 'x' });
    expect(await followLinks(root, ['secret-link'], { visible: (p) => p !== 'secret-link' })).toEqual(['secret-link']);
  });
});

describe('dedupePaths', () => {
  test('drops paths under an earlier kept one; `.` means everything', () => {
    expect(dedupePaths(['a', 'a/b', 'ab', 'b', 'b/c/d'])).toEqual(['a', 'ab', 'b']);
    expect(dedupePaths(['/x', 'a', '/y'])).toEqual(['a', '/y']);
    expect(dedupePaths(['a', '.'])).toBeUndefined();
  });
});
