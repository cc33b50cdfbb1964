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
  for (const p of ['good', 'bad']) {
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
  test('invalid options: the bad task\'s log names its problems once; the others say they were not built', async () => {
    const { results, written } = await run([task('good', {}), task('bad', { load: 'yes', builder: 'ftp://x:1' })]);
    expect(written).toEqual([]);
    const byId = Object.fromEntries(results.map((r) => [r.taskId, r]));
    expect(results.every((r) => r.status === 'failure')).toBe(true);
    expect(byId['bad:image']!.terminalOutput).toBe('invalid options, nothing was built:\nbad:image: option "load": Invalid input: expected boolean, received string\n');
    expect(byId['good:image']!.terminalOutput).toBe('not built: invalid options of bad:image, nothing was built\n');
  });

  test('a builder address problem is found before connecting, with the field', async () => {
    const { results } = await run([task('bad', { builder: 'ftp://127.0.0.1:9' })]);
    expect(results[0]!.terminalOutput).toBe('invalid options, nothing was built:\nbad:image: option "builder": invalid builder address "ftp://127.0.0.1:9": unknown scheme "ftp"\n');
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
