import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runImageTasks, type ImageTaskInput, type ImageTaskResult } from './run-image-tasks';

// Errors found before any build starts: Nx prints each task's log under
// that task, so every message must land in exactly one log and not on
// stdout as well (which Nx prints too), or it appears several times.

let root: string;
beforeAll(() => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-run-image-tasks-'));
  for (const p of ['good', 'bad', 'third', 'free']) {
    fs.mkdirSync(path.join(root, p));
    fs.writeFileSync(path.join(root, p, 'Dockerfile'), 'FROM scratch\n');
  }
});
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const task = (project: string, options: Record<string, unknown>): ImageTaskInput => ({ taskId: `${project}:image`, project, target: 'image', projectRoot: project, options, dependsOn: [] });

async function run(tasks: ImageTaskInput[]): Promise<{ results: ImageTaskResult[]; written: string[] }> {
  const written: string[] = [];
  const results: ImageTaskResult[] = [];
  for await (const r of runImageTasks(tasks, { workspaceRoot: root, write: (line) => written.push(line) })) results.push(r);
  return { results, written };
}

describe('runImageTasks, failures before anything starts', () => {
  test('invalid options fail only their task, with its problems once in its own log', async () => {
    // `good` has nothing to build against (its builder answers nothing), so its outcome shows it was started.
    const { results, written } = await run([task('good', { builder: 'tcp://127.0.0.1:9' }), task('bad', { load: 'yes', builder: 'ftp://x:1' })]);
    expect(written).toEqual([]);
    const byId = Object.fromEntries(results.map((r) => [r.taskId, r]));
    expect(results.map((r) => r.taskId)).toEqual(['bad:image', 'good:image']);
    expect(byId['bad:image']!.status).toBe('failure');
    expect(byId['bad:image']!.terminalOutput).toBe('invalid options, not built:\nbad:image: option "load": Invalid input: expected boolean, received string\n');
    expect(byId['good:image']!.terminalOutput).not.toContain('bad:image');
    expect(byId['good:image']!.terminalOutput).toContain('cannot reach a builder');
  });

  test('a task that depends on an invalid one, directly or not, is not built and says why; an unrelated one goes on', async () => {
    const withDeps = (t: ImageTaskInput, dependsOn: string[]): ImageTaskInput => ({ ...t, dependsOn });
    const { results } = await run([
      task('bad', { load: 'yes' }),
      withDeps(task('good', { builder: 'tcp://127.0.0.1:9' }), ['bad:image']),
      withDeps(task('third', { builder: 'tcp://127.0.0.1:9' }), ['good:image']),
      task('free', { builder: 'tcp://127.0.0.1:9' }),
    ]);
    const byId = Object.fromEntries(results.map((r) => [r.taskId, r]));
    expect(byId['good:image']).toMatchObject({ success: false, status: 'skipped', terminalOutput: 'not built: it depends on bad:image, which is not built (invalid options or not cache-safe)\n' });
    expect(byId['third:image']).toMatchObject({ success: false, status: 'skipped', terminalOutput: 'not built: it depends on bad:image, which is not built (invalid options or not cache-safe)\n' });
    expect(byId['free:image']!.terminalOutput).toContain('cannot reach a builder');
    expect(results).toHaveLength(4);
  });

  test('options that must agree across the run fail every task, none singled out', async () => {
    const { results } = await run([task('good', { bakeMetadataFile: 'a.json' }), task('bad', { bakeMetadataFile: 'b.json' })]);
    expect(results).toHaveLength(2);
    for (const r of results) {
      expect(r.status).toBe('failure');
      expect(r.terminalOutput).toMatch(/^(invalid options, nothing was built:\n.*option "bakeMetadataFile": must be the same for every task of a run|not built: invalid options of)/);
    }
  });

  test('a builder address problem is found before connecting, with the field', async () => {
    const { results } = await run([task('bad', { builder: 'ftp://127.0.0.1:9' })]);
    expect(results[0]!.terminalOutput).toBe('invalid options, not built:\nbad:image: option "builder": invalid builder address "ftp://127.0.0.1:9": unknown scheme "ftp"\n');
  });

  test('an unreachable builder fails every task once, each in its own log, and nothing on stdout', async () => {
    const { results, written } = await run([task('good', { builder: 'tcp://127.0.0.1:9' }), task('bad', { builder: 'tcp://127.0.0.1:9' })]);
    expect(written).toEqual([]);
    for (const r of results) {
      expect(r.status).toBe('failure');
      expect(r.terminalOutput.match(/cannot reach a builder/g)).toHaveLength(1);
      expect(r.terminalOutput).toContain('tcp://127.0.0.1:9');
    }
  });
});
