import { afterAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkContextPaths, isWithin, resolveLinks } from './check-context-paths';
import { parseImageOptions } from '../../plugin/config/executor-options';
import { normalizeImageTask } from './normalize-image-task';

const base = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-ctxpaths-')));
afterAll(() => fs.rmSync(base, { recursive: true, force: true }));
const ws = path.join(base, 'wörk space');
const outside = path.join(base, 'shared dir');
for (const d of ['apps/api', 'apps/web', 'real-inside']) fs.mkdirSync(path.join(ws, d), { recursive: true });
fs.mkdirSync(path.join(outside, 'deep'), { recursive: true });
fs.writeFileSync(path.join(outside, 'Dockerfile'), 'FROM x\n');
fs.writeFileSync(path.join(ws, 'apps/api/Dockerfile'), 'FROM x\n');
// A directory inside the workspace that is a symlink to one outside it, one that stays inside, and a symlinked Dockerfile pointing out.
fs.symlinkSync(outside, path.join(ws, 'apps/linked-out'));
fs.symlinkSync(path.join(ws, 'real-inside'), path.join(ws, 'apps/linked-in'));
fs.symlinkSync(path.join(outside, 'Dockerfile'), path.join(ws, 'apps/api/Linked.Dockerfile'));

const check = (raw: Record<string, unknown>) => {
  const options = parseImageOptions(raw, { project: 'api', target: 'image' });
  const task = normalizeImageTask(options, { project: 'api', target: 'image', projectRoot: 'apps/api', workspaceRoot: ws }, [], { imageNames: ['api:latest'], labels: {} });
  return checkContextPaths(task, { project: 'api', target: 'image', workspaceRoot: ws });
};

describe('contexts outside the workspace need an explicit opt-in', () => {
  test('the defaults and paths inside the workspace pass, also through a symlink that stays inside', () => {
    expect(check({})).toEqual([]);
    expect(check({ context: 'apps/web', dockerfile: 'apps/api/Dockerfile', namedContexts: { lib: 'local:apps/linked-in', img: 'docker-image://busybox' } })).toEqual([]);
    expect(check({ context: 'apps/api/../web' })).toEqual([]);
  });
  test('`..`, absolute paths and symlinked directories that lead out are refused, naming project, target and field', () => {
    expect(check({ context: '../shared dir' })).toEqual([
      `api:image: option "context": ${outside} is outside the workspace root ${ws}; list the directory in "allowOutsideWorkspace" to let the build read it`,
    ]);
    expect(check({ context: 'apps/linked-out/deep' })).toEqual([
      `api:image: option "context": ${path.join(ws, 'apps/linked-out/deep')} (resolves to ${path.join(outside, 'deep')}) is outside the workspace root ${ws}; list the directory in "allowOutsideWorkspace" to let the build read it`,
    ]);
    const problems = check({ dockerfile: `${outside}/Dockerfile`, namedContexts: { a: 'local:apps/linked-out', b: `oci-layout://${outside}/deep:v1`, ok: 'local:apps/web' } });
    expect(problems.map((p) => p.split(':').slice(0, 3).join(':'))).toEqual(['api:image: option "dockerfile"', 'api:image: option "namedContexts.a"', 'api:image: option "namedContexts.b"']);
    // A Dockerfile inside the workspace that is a symlink to one outside it.
    expect(check({ dockerfile: 'apps/api/Linked.Dockerfile' })).toHaveLength(1);
    // The default Dockerfile of a context that is outside is reported once per field.
    expect(check({ context: '../shared dir' })).toHaveLength(1);
    // A context that does not exist yet still counts where it would be.
    expect(check({ context: 'apps/linked-out/missing/dir' })).toHaveLength(1);
  });
  test('allowOutsideWorkspace lets exactly the listed directories (resolved) through; "*" allows any', () => {
    expect(check({ context: '../shared dir/deep', dockerfile: '../shared dir/Dockerfile', allowOutsideWorkspace: ['../shared dir'] })).toEqual([]);
    expect(check({ context: 'apps/linked-out', allowOutsideWorkspace: [outside] })).toEqual([]);
    // Allowing a subdirectory does not allow its parent.
    expect(check({ context: '../shared dir', allowOutsideWorkspace: ['../shared dir/deep'] })).toHaveLength(1);
    // A sibling whose name starts the same is not inside.
    fs.mkdirSync(`${outside}-2`, { recursive: true });
    expect(check({ context: '../shared dir-2', allowOutsideWorkspace: ['../shared dir'] })).toHaveLength(1);
    expect(check({ context: '/', allowOutsideWorkspace: ['*'] })).toEqual([]);
  });
  test('isWithin and resolveLinks', () => {
    expect(isWithin('/a/b', '/a/b')).toBe(true);
    expect(isWithin('/a/b', '/a/b/..c')).toBe(true);
    expect(isWithin('/a/b', '/a/bc')).toBe(false);
    expect(isWithin('/a/b', '/a')).toBe(false);
    expect(resolveLinks(path.join(ws, 'apps/linked-out/x/y'))).toBe(path.join(outside, 'x/y'));
  });
});
