import { describe, expect, test } from 'bun:test';
import { parseImageOptions } from '../../plugin/config/executor-options';
import { runLevelOptionProblems } from './run-level-options';

const task = (project: string, raw: object) => ({ taskId: `${project}:image`, project, target: 'image', options: parseImageOptions(raw, { project, target: 'image' }) });

describe('runLevelOptionProblems', () => {
  test('tasks that agree (or all leave the options unset) have no problem', () => {
    expect(runLevelOptionProblems([task('a', {}), task('b', {})]).size).toBe(0);
    expect(runLevelOptionProblems([task('a', { bakeMetadataFile: 'dist/bake.json', progress: 'json' }), task('b', { bakeMetadataFile: 'dist/bake.json', progress: 'json' })]).size).toBe(0);
  });

  test('a task that differs from the first is named with the field and both values', () => {
    const problems = runLevelOptionProblems([task('a', { bakeMetadataFile: 'dist/bake.json' }), task('b', {}), task('c', { bakeMetadataFile: 'dist/bake.json', progress: 'plain' })]);
    expect([...problems]).toEqual([
      ['b:image', ['b:image: option "bakeMetadataFile": must be the same for every task of a run (unset here, "dist/bake.json" for a:image)']],
      ['c:image', ['c:image: option "progress": must be the same for every task of a run ("plain" here, "auto" for a:image)']],
    ]);
  });
});
