import { describe, expect, test } from 'bun:test';
import { parseImageOptions } from './executor-options';

const where = { project: 'api', target: 'image' };
const problems = (raw: unknown) => {
  try {
    parseImageOptions(raw, where);
    return [];
  } catch (err) {
    return (err as { problems: string[] }).problems;
  }
};

describe('executor options', () => {
  test('defaults fill every field', () => {
    const o = parseImageOptions({}, where);
    expect(o.tags).toEqual(['latest']);
    expect(o.sessionPolicy).toEqual({ context: 'shared' });
    expect(o.concurrency).toBe(4);
    expect(o.failureMode).toBe('keep-going');
    expect(o.secrets).toEqual([]);
  });
  test.each([
    [{ colour: 'red' }, 'api:image: unknown option "colour"'],
    [{ sessionPolicy: { context: 'shared', extra: 1 } }, 'api:image: unknown option "sessionPolicy.extra"'],
    [{ push: 'yes' }, 'api:image: option "push": Invalid input: expected boolean, received string'],
    [{ secrets: [{ id: 'npm' }] }, 'api:image: option "secrets.0": needs exactly one source: "file" or "env"'],
    [{ secrets: [{ id: 'npm', file: 'a', env: 'B' }] }, 'api:image: option "secrets.0": needs exactly one source: "file" or "env"'],
    [{ tags: ['ok', 'bad tag!'] }, 'api:image: option "tags.1": is not a valid tag or tag template'],
    [{ sessionPolicy: { context: 'sometimes' } }, 'api:image: option "sessionPolicy.context": Invalid option: expected one of "shared"|"isolated"'],
    [{ concurrency: 0 }, 'api:image: option "concurrency": Too small: expected number to be >=1'],
    [{ imageName: 'Has/Capitals' }, 'api:image: option "imageName": is not a valid image repository name'],
  ])('%j is refused: %s', (raw, message) => {
    expect(problems(raw)).toContain(message);
  });
  test('every problem is listed at once', () => {
    const listed = problems({ push: 1, colour: 'x', tags: [''] }).join('\n');
    for (const field of ['"push"', '"colour"', '"tags.0"']) expect(listed).toContain(field);
  });
});

describe('options spelled as nx-container, buildx or bake spell them', () => {
  test.each([
    ['build-args', 'buildArgs'],
    ['build_args', 'buildArgs'],
    ['args', 'buildArgs'],
    ['cache-from', 'cacheFrom'],
    ['cache-to', 'cacheTo'],
    ['file', 'dockerfile'],
    ['build-contexts', 'namedContexts'],
    ['contexts', 'namedContexts'],
    ['secret-files', 'secrets'],
    ['add-hosts', 'extraHosts'],
    ['no-cache', 'noCache'],
    ['NoCache', 'noCache'],
    ['platform', 'platforms'],
  ])('unknown "%s" suggests "%s"', (given, meant) => {
    expect(problems({ [given]: 1 })).toEqual([`api:image: unknown option "${given}" (did you mean "${meant}"?)`]);
  });

  test('an unknown option like none of ours suggests nothing', () => {
    expect(problems({ pussh: true })).toEqual(['api:image: unknown option "pussh"']);
  });

  test('a list given as one comma- or newline-separated string shows the list it meant', () => {
    expect(problems({ tags: 'latest, {{sha}}\nv1' })).toEqual(['api:image: option "tags": Invalid input: expected array, received string (a list, e.g. ["latest","{{sha}}","v1"])']);
  });
});
