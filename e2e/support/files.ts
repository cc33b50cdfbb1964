import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A fresh temporary directory; removed by the returned disposer. */
export function tempDir(prefix = 'nxbk-e2e-'): { dir: string; [Symbol.dispose](): void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, [Symbol.dispose]: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/** Write a tree: `{ 'a.txt': 'x', 'dir/': null, 'link': { symlink: 'a.txt' }, 'run.sh': { content, mode } }`. */
export type TreeSpec = Record<string, string | null | { symlink: string } | { content: string; mode: number }>;

export function writeTree(root: string, spec: TreeSpec): void {
  for (const [rel, value] of Object.entries(spec)) {
    const abs = path.join(root, rel);
    fs.mkdirSync(rel.endsWith('/') ? abs : path.dirname(abs), { recursive: true });
    if (value === null) continue;
    if (typeof value === 'string') fs.writeFileSync(abs, value);
    else if ('symlink' in value) fs.symlinkSync(value.symlink, abs);
    else {
      fs.writeFileSync(abs, value.content);
      fs.chmodSync(abs, value.mode);
    }
  }
}

/** A tree as a comparable listing: path → "dir 755", "file 644 <content>", "link -> target". */
export function readTree(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string, rel: string) => {
    for (const name of fs.readdirSync(dir).sort()) {
      const abs = path.join(dir, name);
      const r = rel ? `${rel}/${name}` : name;
      const st = fs.lstatSync(abs);
      const perm = (st.mode & 0o7777).toString(8);
      if (st.isSymbolicLink()) out[r] = `link -> ${fs.readlinkSync(abs)}`;
      else if (st.isDirectory()) {
        out[r] = `dir ${perm}`;
        walk(abs, r);
      } else out[r] = `file ${perm} ${fs.readFileSync(abs, 'utf8')}`;
    }
  };
  walk(root, '');
  return out;
}
