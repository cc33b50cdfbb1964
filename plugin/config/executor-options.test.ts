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

describe("buildx's string forms of cacheFrom, cacheTo, outputs, secrets and ssh", () => {
  const same = (csv: Record<string, unknown>, objects: Record<string, unknown>) => expect(parseImageOptions(csv, where)).toEqual(parseImageOptions(objects, where));

  test('cache entries: type and attributes, or a bare reference as registry cache', () => {
    same(
      { cacheFrom: ['type=registry,ref=127.0.0.1:5000/app:cache', 'reg.example/app:buildcache', 'type=local,src=.cache/app'], cacheTo: ['type=registry,ref=127.0.0.1:5000/app:cache,mode=max,image-manifest=true'] },
      {
        cacheFrom: [{ type: 'registry', attrs: { ref: '127.0.0.1:5000/app:cache' } }, { type: 'registry', attrs: { ref: 'reg.example/app:buildcache' } }, { type: 'local', attrs: { src: '.cache/app' } }],
        cacheTo: [{ type: 'registry', attrs: { ref: '127.0.0.1:5000/app:cache', mode: 'max', 'image-manifest': 'true' } }],
      },
    );
  });

  test('outputs: type and dest (quoted when it holds a comma), oci tar, cacheonly, a bare directory as a local export', () => {
    same(
      { outputs: ['type=local,dest=out/root', '"type=tar","dest=out/a,b.tar"', 'type=oci,dest=out/app,tar=false', 'type=cacheonly', 'out/dir'] },
      { outputs: [{ type: 'local', dest: 'out/root' }, { type: 'tar', dest: 'out/a,b.tar' }, { type: 'oci', dest: 'out/app', tar: false }, { type: 'cacheonly' }, { type: 'local', dest: 'out/dir' }] },
    );
  });

  test('secrets: id with src, source or env; type=env takes src as the variable', () => {
    same(
      { secrets: ['id=npm,src=.npmrc', 'id=pip,source=pip.conf', 'id=token,env=TOKEN', 'type=env,id=gh,src=GH_TOKEN'] },
      { secrets: [{ id: 'npm', file: '.npmrc' }, { id: 'pip', file: 'pip.conf' }, { id: 'token', env: 'TOKEN' }, { id: 'gh', env: 'GH_TOKEN' }] },
    );
  });

  test('ssh: an id alone, or an id with agent sockets or keys', () => {
    same({ ssh: ['default', 'github=keys/a,keys/b'] }, { ssh: [{ id: 'default', paths: [] }, { id: 'github', paths: ['keys/a', 'keys/b'] }] });
  });

  test('objects and strings mix in one list', () => {
    expect(parseImageOptions({ secrets: [{ id: 'a', env: 'A' }, 'id=b,env=B'] }, where).secrets).toEqual([
      { id: 'a', env: 'A' },
      { id: 'b', env: 'B' },
    ]);
  });

  test.each([
    [{ cacheTo: ['type=registry,ref=r/a:c,mode'] }, 'api:image: option "cacheTo.0": "type=registry,ref=r/a:c,mode": field "mode" is not key=value'],
    [{ cacheFrom: ['ref=r/a:c'] }, 'api:image: option "cacheFrom.0": "ref=r/a:c": no "type" key (e.g. type=registry,ref=…)'],
    [{ cacheFrom: ['type=redis,ref=x'] }, 'api:image: option "cacheFrom.0": "type=redis,ref=x": "type" Invalid option: expected one of "registry"|"local"|"inline"|"gha"|"s3"|"azblob"'],
    [{ cacheFrom: ['r/a:c1,r/a:c2'] }, 'api:image: option "cacheFrom.0": "r/a:c1,r/a:c2": several cache references in one entry: give each its own list item'],
    [{ cacheTo: ['type=registry,ref=a,ref=b'] }, 'api:image: option "cacheTo.0": "type=registry,ref=a,ref=b": key "ref" given twice'],
    [{ outputs: ['type=local,dest=out,compression=zstd'] }, 'api:image: option "outputs.0": "type=local,dest=out,compression=zstd": unknown key "compression" for type=local (known: dest)'],
    [{ outputs: ['type=image,push=true'] }, 'api:image: option "outputs.0": "type=image,push=true": type=image: set "push": true (the image is named by imageName and tags) instead'],
    [{ outputs: ['type=oci,dest=o,tar=yes'] }, 'api:image: option "outputs.0": "type=oci,dest=o,tar=yes": key "tar" must be true or false, not "yes"'],
    [{ outputs: ['type=tar'] }, 'api:image: option "outputs.0": "type=tar": "dest" Invalid input: expected string, received undefined'],
    [{ outputs: ['-'] }, 'api:image: option "outputs.0": "-": an export to standard output ("-") is not supported: give type=tar,dest=<file>'],
    [{ secrets: ['id=npm,file=.npmrc'] }, 'api:image: option "secrets.0": "id=npm,file=.npmrc": unknown key "file" (known: id, src, source, env, type)'],
    [{ secrets: ['src=.npmrc'] }, 'api:image: option "secrets.0": "src=.npmrc": no "id" key (e.g. id=npm,src=.npmrc)'],
    [{ secrets: ['id=npm,src=a,env=B'] }, 'api:image: option "secrets.0": "id=npm,src=a,env=B": needs exactly one source: "file" or "env"'],
    [{ secrets: ['id=npm,"src=a'] }, 'api:image: option "secrets.0": "id=npm,\\"src=a": unclosed quote in field 2'],
    [{ ssh: ['=sock'] }, 'api:image: option "ssh.0": "=sock": no id before "=" (e.g. default=$SSH_AUTH_SOCK)'],
    [{ secrets: [42] }, 'api:image: option "secrets.0": expected buildx\'s string form or an object'],
  ])('%j is refused: %s', (raw, message) => {
    expect(problems(raw)).toEqual([message]);
  });

  test('an object keeps the object form\'s messages (buildx\'s key names are not ours there)', () => {
    expect(problems({ secrets: [{ id: 'npm', src: 'a' }] })).toContain('api:image: unknown option "secrets.0.src"');
  });

  test('a whole list given as one string is shown as a list of that one string, its commas kept', () => {
    expect(problems({ cacheFrom: 'type=registry,ref=r/a:c' })).toEqual(['api:image: option "cacheFrom": Invalid input: expected array, received string (a list, e.g. ["type=registry,ref=r/a:c"])']);
  });
});
