import { z } from 'zod';
import { imageExecutorOptionsSchema } from './executor-options';

/**
 * The JSON schema Nx shows and checks for `nx-buildkit:image`, generated
 * from the zod schema (the one source of truth); `bun run gen:schema`
 * writes it to executors/image/schema.json and a test checks it is current.
 */
export function imageExecutorSchemaJson(): string {
  const generated = z.toJSONSchema(imageExecutorOptionsSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  const { $schema: _ignored, ...body } = generated;
  void _ignored;
  const schema = {
    $schema: 'https://json-schema.org/schema',
    version: 2,
    title: 'nx-buildkit image executor',
    description: 'Builds a container image with BuildKit, directly over gRPC (no docker CLI).',
    ...body,
  };
  return JSON.stringify(schema, null, 2) + '\n';
}
