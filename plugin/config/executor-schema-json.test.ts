import { expect, test } from 'bun:test';
import fs from 'node:fs';
import path from 'node:path';
// Nx's own option handling, what it runs on every task before calling the executor.
import { coerceTypesInOptions, setDefaults, validateOptsAgainstSchema } from 'nx/src/utils/params';
import { imageExecutorOptionsSchema, parseImageOptions } from './executor-options';
import { checkedByExecutorRef, imageExecutorSchemaJson } from './executor-schema-json';

const file = path.join(import.meta.dir, '..', '..', 'executors', 'image', 'schema.json');
/** The file as Nx reads it (`Schema`), with the properties this test looks at. */
type SchemaFile = Parameters<typeof validateOptsAgainstSchema>[1] & {
  properties: Record<string, { description?: string; default?: unknown; type?: string; items?: unknown; anyOf: unknown[] }>;
};
const schema = JSON.parse(fs.readFileSync(file, 'utf8')) as SchemaFile;

test('executors/image/schema.json is generated from the zod schema (run `bun run gen:schema`)', () => {
  expect(fs.readFileSync(file, 'utf8')).toBe(imageExecutorSchemaJson());
});

test('every option is documented with its shape, description and default', () => {
  expect(Object.keys(schema.properties).sort()).toEqual(Object.keys(imageExecutorOptionsSchema.shape).sort());
  for (const prop of Object.values(schema.properties)) {
    expect(prop.anyOf).toEqual([{ $ref: checkedByExecutorRef }]);
    expect(prop.type).toBeDefined();
  }
  expect(schema.properties.push).toMatchObject({ type: 'boolean', default: false, description: 'Push the tagged image to its registry' });
  expect(schema.properties.tags).toMatchObject({ type: 'array', items: { type: 'string' }, default: ['latest'] });
  expect(schema.properties.sessionPolicy).toMatchObject({ type: 'object', additionalProperties: false, default: { context: 'shared' } });
});

test('Nx still coerces command-line flags by the documented types', () => {
  expect(coerceTypesInOptions({ push: 'false', concurrency: '2', tags: 'a,b' }, schema)).toEqual({ push: false, concurrency: 2, tags: ['a', 'b'] });
  // A boolean-or-object option (sbom) keeps --sbom=true a boolean.
  expect(coerceTypesInOptions({ sbom: 'true' }, schema)).toEqual({ sbom: true });
});

// Invalid option sets as users write them: Nx must let each through (its
// message names no project or target) so that the executor's reaches the user.
const invalid: Array<[string, Record<string, unknown>, string]> = [
  ['unknown field', { pussh: true }, 'unknown option "pussh"'],
  ['wrong type', { push: 'yes' }, 'option "push": Invalid input: expected boolean, received string'],
  ['string for an array', { tags: 'latest' }, 'option "tags": Invalid input: expected array, received string'],
  ['string for a boolean or object', { sbom: 'yes' }, 'option "sbom": expected a boolean or an object'],
  ['bad tag', { tags: ['Bad Tag!'] }, 'option "tags.0": is not a valid tag or tag template'],
  ['secret without source', { secrets: [{ id: 'npm' }] }, 'option "secrets.0": needs exactly one source: "file" or "env"'],
  ['secret without id', { secrets: [{ env: 'X' }] }, 'option "secrets.0.id": Invalid input: expected string, received undefined'],
  ['string for an object in an array', { secrets: ['npm'] }, 'option "secrets.0": "npm": field "npm" is not key=value'],
  ['string for an object with nested defaults', { sessionPolicy: 'shared' }, 'option "sessionPolicy": Invalid input: expected object, received string'],
  ['string in an array of objects with defaults', { ssh: ['=sock'] }, 'option "ssh.0": "=sock": no id before "="'],
  ['unknown nested field', { sessionPolicy: { context: 'shared', dirs: 1 } }, 'unknown option "sessionPolicy.dirs"'],
  ['null', { builder: null }, 'option "builder": Invalid input: expected string, received null'],
  ['out of range', { concurrency: 0 }, 'option "concurrency": Too small: expected number to be >=1'],
];

for (const [what, options, message] of invalid) {
  test(`${what}: Nx lets it through, the executor names project, target and field`, () => {
    const copy = structuredClone(options);
    expect(() => validateOptsAgainstSchema(setDefaults(copy, schema), schema)).not.toThrow();
    expect(() => parseImageOptions(options, { project: 'api', target: 'image' })).toThrow(`api:image: ${message}`);
  });
}

test('the typed shapes alone would have Nx reject the options itself, naming no project or target', () => {
  const typedOnly = { properties: Object.fromEntries(Object.entries(schema.properties).map(([k, { anyOf: _ignored, ...p }]) => [k, p])), additionalProperties: false };
  expect(() => validateOptsAgainstSchema({ push: 'yes' }, typedOnly)).toThrow("Property 'push' does not match the schema. 'yes' should be a 'boolean'.");
  expect(() => validateOptsAgainstSchema({ pussh: true }, typedOnly)).toThrow("'pussh' is not found in schema");
});

test('valid options pass both', () => {
  const options = { push: true, tags: ['latest', '{{sha}}'], secrets: [{ id: 'npm', env: 'NPM_TOKEN' }], sessionPolicy: { context: 'isolated' }, concurrency: 2 };
  expect(() => validateOptsAgainstSchema(options, schema)).not.toThrow();
  expect(parseImageOptions(options, { project: 'api', target: 'image' })).toMatchObject(options);
});

test("buildx's string forms pass Nx's check and become the object forms", () => {
  const options = { cacheTo: ['type=registry,ref=r/a:cache,mode=max'], secrets: ['id=npm,src=.npmrc'], outputs: ['type=local,dest=out'], ssh: ['default'] };
  expect(() => validateOptsAgainstSchema(setDefaults(structuredClone(options), schema), schema)).not.toThrow();
  expect(parseImageOptions(options, { project: 'api', target: 'image' })).toMatchObject({
    cacheTo: [{ type: 'registry', attrs: { ref: 'r/a:cache', mode: 'max' } }],
    secrets: [{ id: 'npm', file: '.npmrc' }],
    outputs: [{ type: 'local', dest: 'out' }],
    ssh: [{ id: 'default', paths: [] }],
  });
});
