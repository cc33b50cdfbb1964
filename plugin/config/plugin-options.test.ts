import { describe, expect, test } from 'bun:test';
import { InvalidOptionsError } from './executor-options';
import { parsePluginOptions } from './plugin-options';

const failure = (raw: unknown): InvalidOptionsError => {
  try {
    parsePluginOptions(raw);
  } catch (err) {
    if (err instanceof InvalidOptionsError) return err;
    throw err;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
};

describe('plugin options', () => {
  test('defaults', () => {
    for (const raw of [undefined, null, {}]) {
      expect(parsePluginOptions(raw)).toEqual({ targetName: 'image', dockerfilePatterns: ['**/Dockerfile'], options: {} });
    }
  });

  test('valid options are kept', () => {
    const raw = { targetName: 'container', dockerfilePatterns: ['apps/*/Dockerfile', '**/*.Dockerfile'], options: { push: true, tags: ['dev'] } };
    expect(parsePluginOptions(raw)).toEqual(raw);
  });

  test.each<[string, unknown, string]>([
    ['unknown option', { targetNam: 'x' }, 'nx-buildkit plugin option "targetNam": unknown option'],
    ['wrong type', { targetName: 3 }, 'nx-buildkit plugin option "targetName": Invalid input: expected string, received number'],
    ['target name with a colon', { targetName: 'a:b' }, 'nx-buildkit plugin option "targetName": must be a target name without spaces or ":"'],
    ['patterns not a list', { dockerfilePatterns: '**/Dockerfile' }, 'nx-buildkit plugin option "dockerfilePatterns": Invalid input: expected array, received string'],
    ['empty pattern list', { dockerfilePatterns: [] }, 'nx-buildkit plugin option "dockerfilePatterns": must list at least one pattern'],
    ['pattern the discovery glob cannot see', { dockerfilePatterns: ['**/Dockerfile', '**/build.txt'] }, 'nx-buildkit plugin option "dockerfilePatterns.1": must name files whose name contains "Dockerfile" or "Containerfile" (any case of the first letter)'],
    ['options not an object', { options: ['push'] }, 'nx-buildkit plugin option "options": Invalid input: expected record, received array'],
    ['unknown executor option', { options: { colour: 'red' } }, 'nx-buildkit plugin option "options.colour": unknown option'],
    ['executor option of the wrong type', { options: { push: 'yes' } }, 'nx-buildkit plugin option "options.push": Invalid input: expected boolean, received string'],
    ['nested executor option', { options: { secrets: [{ id: 'npm' }] } }, 'nx-buildkit plugin option "options.secrets.0": needs exactly one source: "file" or "env"'],
    ['per-project executor option', { options: { imageName: 'same-for-all' } }, 'nx-buildkit plugin option "options.imageName": describes one project\'s image; set it in that project\'s target options instead'],
    ['not an object at all', 'image', 'nx-buildkit plugin options: Invalid input: expected object, received string'],
  ])('%s', (_name, raw, message) => {
    expect(failure(raw).problems).toContain(message);
  });

  test('the message names the file the options live in (Nx does not)', () => {
    expect(failure({ targetName: 3 }).message.split('\n')[0]).toBe('invalid nx-buildkit plugin options in nx.json:');
  });

  test('every problem is listed at once, in the error message', () => {
    const err = failure({ targetNam: 'x', dockerfilePatterns: 'Dockerfile', options: { push: 1, context: '.' } });
    for (const name of ['"targetNam"', '"dockerfilePatterns"', '"options.push"', '"options.context"']) {
      expect(err.message).toContain(`nx-buildkit plugin option ${name}`);
    }
  });
});
