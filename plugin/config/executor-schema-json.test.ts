import { expect, test } from 'bun:test';
import fs from 'node:fs';
import path from 'node:path';
import { imageExecutorSchemaJson } from './executor-schema-json';

test('executors/image/schema.json is generated from the zod schema (run `bun run gen:schema`)', () => {
  const file = path.join(import.meta.dir, '..', '..', 'executors', 'image', 'schema.json');
  expect(fs.readFileSync(file, 'utf8')).toBe(imageExecutorSchemaJson());
  const schema = JSON.parse(fs.readFileSync(file, 'utf8'));
  expect(schema.additionalProperties).toBe(false);
  expect(Object.keys(schema.properties)).toContain('sessionPolicy');
});
