/** Writes executors/image/schema.json from the zod schema (plugin/config/executor-options.ts). */
import fs from 'node:fs';
import path from 'node:path';
import { imageExecutorSchemaJson } from '../plugin/config/executor-schema-json';

const file = path.join(import.meta.dir, '..', 'executors', 'image', 'schema.json');
fs.writeFileSync(file, imageExecutorSchemaJson());
console.log(`wrote ${path.relative(process.cwd(), file)}`);
