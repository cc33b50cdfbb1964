import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { admits, allFilters } from './all-filters';
import { isDirectory, isSymlink } from './go-file-mode';
import { createPathFilter, type PathFilterOptions } from './patterns/path-filter';
import { walkTree, type TreeFilter } from './walk-tree';

const base = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-walk-'));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));

type Spec = Record<string, string | null | { link: string } | { hardlink: string }>;

/** A fresh root `<base>/<name>/root`; `<base>/<name>/outside.txt` sits next to it. */
function tree(name: string, spec: Spec): string {
  const root = path.join(base, name, 'root');
  fs.mkdirSync(root, { recursive: true });
  fs.writeFileSync(path.join(base, name, 'outside.txt'), 'outside secret');
  for (const [rel, v] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(v === null ? abs : path.dirname(abs), { recursive: true });
    if (typeof v === 'string') fs.writeFileSync(abs, v);
    else if (v && 'link' in v) fs.symlinkSync(v.link, abs);
    else if (v) fs.linkSync(path.join(root, v.hardlink), abs);
  }
  return root;
}

/** The walk as the daemon would see it: `dir/`, `file`, `link -> target`, `hardlink => first`. */
async function listing(root: string, filter?: TreeFilter): Promise<string[]> {
  const out: string[] = [];
  for await (const e of walkTree(root, filter)) {
    if (isDirectory(e.mode)) out.push(`${e.path}/`);
    else if (isSymlink(e.mode)) out.push(`${e.path} -> ${e.linkname}`);
    else if (e.linkname) out.push(`${e.path} => ${e.linkname}`);
    else out.push(e.path);
  }
  return out;
}

const filtered = async (root: string, options: PathFilterOptions) => listing(root, await createPathFilter(root, options));

describe('walkTree order', () => {
  test('depth-first, siblings by UTF-8 bytes (astral after other non-ASCII, unlike UTF-16 order)', async () => {
    const root = tree('order', { 'b.txt': '', 'a b/x': '', 'a/y': '', 'a-b': '', '😀': '', 'ｚ': '', 'é': '', 'Z': '', '_': '' });
    expect(await listing(root)).toEqual(['Z', '_', 'a/', 'a/y', 'a b/', 'a b/x', 'a-b', 'b.txt', 'é', 'ｚ', '😀']);
    // JS's default sort would put 😀 (U+1F600, UTF-16 D83D…) before ｚ (U+FF5A).
    expect(['ｚ', '😀'].sort()).toEqual(['😀', 'ｚ']);
  });
  test('symlinks are reported as stored and never followed, even out of the root', async () => {
    const root = tree('links', { 'out': { link: '../outside.txt' }, 'abs': { link: path.join(base, 'links', 'outside.txt') }, 'dirlink': { link: '..' } });
    const entries: Array<{ path: string; hasContent: boolean }> = [];
    for await (const e of walkTree(root)) entries.push({ path: e.path, hasContent: e.hasContent });
    expect(await listing(root)).toEqual([`abs -> ${path.join(base, 'links', 'outside.txt')}`, 'dirlink -> ..', 'out -> ../outside.txt']);
    expect(entries.every((e) => !e.hasContent)).toBe(true);
  });
  test('hard links after the first sent one point to it and carry no content', async () => {
    const root = tree('hard', { 'a/first': 'data', 'b/second': { hardlink: 'a/first' }, 'c': { hardlink: 'a/first' } });
    expect(await listing(root)).toEqual(['a/', 'a/first', 'b/', 'b/second => a/first', 'c => a/first']);
    // When the first one is filtered out, the next sent one carries the content.
    expect(await filtered(root, { excludePatterns: ['a'] })).toEqual(['b/', 'b/second', 'c => b/second']);
  });
  test('a missing root is an error', async () => {
    await expect(listing(path.join(base, 'nope'))).rejects.toThrow();
  });
});

describe('walkTree with fsutil filtering', () => {
  const project = {
    'Dockerfile': '', 'README.md': '', 'src/app.ts': '', 'src/app.test.ts': '', 'src/lib/util.ts': '',
    'node_modules/dep/index.js': '', 'node_modules/keep/keep.js': '', 'docs/a.md': '', 'docs/img/b.png': '',
  };
  test('include patterns: only matching paths, their parents sent just before them', async () => {
    const root = tree('include', project);
    expect(await filtered(root, { includePatterns: ['src/lib', '**/*.md'] })).toEqual(['README.md', 'docs/', 'docs/a.md', 'src/', 'src/lib/', 'src/lib/util.ts']);
    expect(await filtered(root, { includePatterns: ['src/*.ts', '!src/*.test.ts'] })).toEqual(['src/', 'src/app.ts']);
  });
  test('exclude patterns: an excluded directory is skipped, a `!` exception re-includes inside it', async () => {
    const root = tree('exclude', project);
    expect(await filtered(root, { excludePatterns: ['node_modules', '!node_modules/keep', '*.md', 'src/**/*.test.ts'] })).toEqual([
      'Dockerfile', 'docs/', 'docs/a.md', 'docs/img/', 'docs/img/b.png', 'node_modules/', 'node_modules/keep/', 'node_modules/keep/keep.js',
      'src/', 'src/app.ts', 'src/lib/', 'src/lib/util.ts',
    ]);
    // `*.md` only matches at the top: docs/a.md stays. `**/*.md` reaches everywhere.
    expect(await filtered(root, { excludePatterns: ['**/*.md', 'docs/img', 'src', '!src/lib/util.ts'] })).toEqual([
      'Dockerfile', 'docs/', 'node_modules/', 'node_modules/dep/', 'node_modules/dep/index.js', 'node_modules/keep/', 'node_modules/keep/keep.js',
      'src/', 'src/lib/', 'src/lib/util.ts',
    ]);
  });
  test('followpaths: the paths and their resolved link targets are the includes', async () => {
    const root = tree('follow', { ...project, 'current': { link: 'releases/v2' }, 'releases/v1/x': '', 'releases/v2/app.bin': '', 'releases/v2/notes': '' });
    expect(await filtered(root, { followPaths: ['current/app.bin', 'Dockerfile'] })).toEqual([
      'Dockerfile', 'current -> releases/v2', 'releases/', 'releases/v2/', 'releases/v2/app.bin',
    ]);
    // Exclude patterns still apply to what followpaths brought in.
    expect(await filtered(root, { followPaths: ['current'], excludePatterns: ['releases/v2/notes'] })).toEqual([
      'current -> releases/v2', 'releases/', 'releases/v2/', 'releases/v2/app.bin',
    ]);
  });
  test('followpaths through a link out of the root stay inside the root', async () => {
    const root = tree('follow-out', { 'leak': { link: '../outside.txt' }, 'outside.txt': 'inside namesake', 'other': '' });
    // `../outside.txt` resolves to `/outside.txt` in the root: the namesake inside, never the file next to the root.
    expect(await filtered(root, { followPaths: ['leak'] })).toEqual(['leak -> ../outside.txt', 'outside.txt']);
  });
  test('malformed patterns fail the walk with the pattern named', async () => {
    const root = tree('bad', { 'a': '' });
    await expect(createPathFilter(root, { excludePatterns: ['['] })).rejects.toThrow('invalid excludepatterns');
    await expect(filtered(root, { excludePatterns: ['[z-a]'] })).rejects.toThrow('failed to match excludepatterns: syntax error in pattern');
  });
  test('client and daemon filters: an entry is sent only if both allow it', async () => {
    const root = tree('both', project);
    const client = await createPathFilter(root, { excludePatterns: ['node_modules', 'docs/img'] });
    const daemon = await createPathFilter(root, { excludePatterns: ['*.md', '!node_modules/keep'] });
    expect(await listing(root, allFilters(client, daemon))).toEqual(['Dockerfile', 'docs/', 'docs/a.md', 'src/', 'src/app.test.ts', 'src/app.ts', 'src/lib/', 'src/lib/util.ts']);
    expect(allFilters(undefined, client)).toBe(client!);
    expect(admits(client!, 'node_modules/keep/keep.js', false)).toBe(false);
    expect(admits(client!, 'src/lib', true)).toBe(true);
  });
});

describe('walkTree over trees larger than one batch', () => {
  /** The order fsutil sends, computed independently: recursive, names sorted by UTF-8 bytes. */
  function reference(root: string, rel = ''): string[] {
    const names = fs.readdirSync(path.join(root, rel)).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    return names.flatMap((n) => {
      const p = rel ? `${rel}/${n}` : n;
      return fs.lstatSync(path.join(root, p)).isDirectory() ? [`${p}/`, ...reference(root, p)] : [p];
    });
  }
  const spec: Spec = {};
  for (let i = 0; i < 1500; i++) spec[`d${i % 7}/sub${i % 13}/f-${i}${i % 11 === 0 ? '-😀' : ''}.txt`] = '';
  spec['zz/deep/a/b/c/keep.md'] = '';
  test('every entry once, in fsutil order, across batch boundaries', async () => {
    const root = tree('many', spec);
    const got = await listing(root);
    expect(got.length).toBe(reference(root).length);
    expect(got).toEqual(reference(root));
  });
  test('held-back parents are sent just before their first included descendant, also after many skipped entries', async () => {
    const root = tree('many-filtered', spec);
    expect(await filtered(root, { includePatterns: ['**/*.md', 'd3/sub4/f-1018.txt'] })).toEqual([
      'd3/', 'd3/sub4/', 'd3/sub4/f-1018.txt', 'zz/', 'zz/deep/', 'zz/deep/a/', 'zz/deep/a/b/', 'zz/deep/a/b/c/', 'zz/deep/a/b/c/keep.md',
    ]);
  });
});
