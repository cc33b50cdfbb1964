import { describe, expect, test } from 'bun:test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkoutInputs, type CheckoutInput } from './checkout-inputs';

const runtimeOf = (inputs: CheckoutInput[]) => inputs.flatMap((i) => ('runtime' in i ? [i.runtime] : []));
const envOf = (inputs: CheckoutInput[]) => inputs.flatMap((i) => ('env' in i ? [i.env] : []));

describe('checkoutInputs', () => {
  test('default options (OCI labels on, SOURCE_DATE_EPOCH from the commit): the commit, tags at HEAD, the remote, the project files', () => {
    const r = checkoutInputs([{}], 'apps/web');
    expect(runtimeOf(r.inputs)).toEqual([
      "git log -1 --format=%H%n%cI HEAD 2>/dev/null; git tag --points-at HEAD 2>/dev/null; git remote get-url origin 2>/dev/null | sed 's#//[^/@]*@#//#'; true",
    ]);
    expect(envOf(r.inputs)).toEqual([]);
    expect(r.files).toEqual(['apps/web/package.json', 'apps/web/project.json']);
    expect(checkoutInputs([{}], '.').files).toEqual(['package.json', 'project.json']);
  });

  test('no labels, SOURCE_DATE_EPOCH in buildArgs, no git placeholders: nothing of the checkout', () => {
    expect(checkoutInputs([{ ociLabels: false, buildArgs: { SOURCE_DATE_EPOCH: '0' }, tags: ['app:latest', 'app:v1'] }], 'a')).toEqual({ inputs: [], files: [] });
  });

  test('no labels, SOURCE_DATE_EPOCH left to the commit: only the commit time', () => {
    expect(runtimeOf(checkoutInputs([{ ociLabels: false }], 'a').inputs)).toEqual(['git log -1 --format=%ct HEAD 2>/dev/null; true']);
  });

  test('each placeholder adds what it resolves from', () => {
    const quiet = { ociLabels: false, buildArgs: { SOURCE_DATE_EPOCH: '0' } };
    const of = (tag: string) => checkoutInputs([{ ...quiet, tags: [tag] }], 'a');
    expect(runtimeOf(of('app:{{sha}}').inputs)).toEqual(['git log -1 --format=%H%n%cI HEAD 2>/dev/null; true']);
    expect(runtimeOf(of('app:{{ sha : 12 }}').inputs)).toEqual(['git log -1 --format=%H%n%cI HEAD 2>/dev/null; true']);
    expect(runtimeOf(of('app:{{tag}}').inputs)).toEqual(['git tag --points-at HEAD 2>/dev/null; true']);
    expect(runtimeOf(of('app:{{date:YYYYMMDD}}').inputs)).toEqual(['date -u +%Y%m%dT%H%M%S; true']);
    expect(of('app:{{version}}').files).toEqual(['a/package.json', 'a/project.json']);
    const branch = of('app:{{branch}}');
    expect(runtimeOf(branch.inputs)).toEqual(['git symbolic-ref --quiet --short HEAD 2>/dev/null; true']);
    expect(envOf(branch.inputs)).toContain('GITHUB_HEAD_REF');
    const pr = of('app:pr-{{pr}}');
    expect(runtimeOf(pr.inputs)).toEqual([]);
    expect(envOf(pr.inputs)).toEqual(expect.arrayContaining(['GITHUB_REF', 'CI_MERGE_REQUEST_IID', 'CHANGE_ID']));
    const ref = of('app:{{ref}}');
    expect(runtimeOf(ref.inputs)).toEqual(['git tag --points-at HEAD 2>/dev/null; git symbolic-ref --quiet --short HEAD 2>/dev/null; true']);
    expect(envOf(ref.inputs)).toEqual(expect.arrayContaining(['GITHUB_REF', 'GITHUB_REF_TYPE', 'CI_COMMIT_TAG', 'GITHUB_HEAD_REF']));
  });

  test('the union over every variant (configurations)', () => {
    const quiet = { ociLabels: false, buildArgs: { SOURCE_DATE_EPOCH: '0' } };
    const r = checkoutInputs([quiet, { ...quiet, tags: ['app:{{sha}}'] }], 'a');
    expect(runtimeOf(r.inputs)).toEqual(['git log -1 --format=%H%n%cI HEAD 2>/dev/null; true']);
  });

  test('the command prints something else after a commit, on another tag or remote, and never the remote credentials', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-checkout-'));
    try {
      const env = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.invalid', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.invalid' };
      const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' });
      const [command] = runtimeOf(checkoutInputs([{}], '.').inputs);
      const run = () => execFileSync('sh', ['-c', command!], { cwd: dir, encoding: 'utf8' });
      expect(run()).toBe('');
      git('init', '-q', '-b', 'main');
      git('commit', '-q', '--allow-empty', '-m', 'one');
      git('remote', 'add', 'origin', 'https://user:s3cret@example.invalid/acme/app.git');
      const one = run();
      expect(one).toContain(git('rev-parse', 'HEAD').trim());
      expect(one).toContain('https://example.invalid/acme/app.git');
      expect(one).not.toContain('s3cret');
      git('tag', 'v1.0.0');
      const tagged = run();
      expect(tagged).not.toBe(one);
      git('commit', '-q', '--allow-empty', '-m', 'two');
      expect(run()).not.toBe(tagged);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
