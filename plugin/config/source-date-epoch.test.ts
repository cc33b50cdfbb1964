import { expect, test } from 'bun:test';
import type { GitInfo } from '../metadata/index';
import { sourceDateEpoch } from './source-date-epoch';

const git: GitInfo = { kind: 'repository', root: '/w', sha: 'a'.repeat(40), shortSha: 'aaaaaaa', detached: false, tags: [], commitTime: '2024-05-06T07:08:09.000Z' };
const noGit: GitInfo = { kind: 'unavailable', dir: '/w', reason: 'not a repository' };

test('the build arg wins, then the environment, then the commit time', () => {
  expect(sourceDateEpoch({ SOURCE_DATE_EPOCH: '42' }, { SOURCE_DATE_EPOCH: '7' }, git)).toEqual({ value: '42', from: 'buildArgs' });
  expect(sourceDateEpoch({}, { SOURCE_DATE_EPOCH: ' 7 ' }, git)).toEqual({ value: '7', from: 'env' });
  expect(sourceDateEpoch({}, {}, git)).toEqual({ value: String(Date.UTC(2024, 4, 6, 7, 8, 9) / 1000), from: 'git' });
});

test('a non-numeric environment value falls back to git; no git and no value gives none', () => {
  expect(sourceDateEpoch({}, { SOURCE_DATE_EPOCH: 'yesterday' }, git)?.from).toBe('git');
  expect(sourceDateEpoch({}, { SOURCE_DATE_EPOCH: '' }, noGit)).toBeUndefined();
});
