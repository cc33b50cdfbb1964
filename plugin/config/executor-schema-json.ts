import { z } from 'zod';
import { imageExecutorOptionsSchema } from './executor-options';

/** The definition every option also accepts, so that Nx's own check never rejects a value. */
export const checkedByExecutorRef = '#/definitions/checkedByExecutor';

/**
 * The JSON schema Nx reads for `nx-buildkit:image`, generated from the zod
 * schema (the one source of truth); `bun run gen:schema` writes it to
 * executors/image/schema.json and a test checks it is current.
 *
 * Every option keeps its exact shape, description and default, for
 * `nx … --help`, editors, Nx Console and Nx's coercion of command-line
 * flags (`--push=false`, `--tags=a,b`). But Nx also checks options against
 * this file before it calls the executor, and its message on a mismatch
 * names neither the project nor the target (in a batch run the worker even
 * dies on an unhandled `#<SchemaError>`, failing every task with no reason
 * given). So:
 * - each option carries `anyOf: [any value]`: by JSON Schema that changes
 *   nothing (the shape beside it still applies), but Nx's checker evaluates
 *   `anyOf` in place of the keywords beside it, so it accepts every value;
 * - unknown keys are not refused here;
 * - defaults below the top level are left out: Nx fills them into whatever
 *   value it finds (a string where an object belongs makes it throw), and zod
 *   fills them anyway.
 * The executor's zod validation then reports every problem of every task as
 * `<project>:<target>: option "<field>": …` before any build of the run starts.
 */
export function imageExecutorSchemaJson(): string {
  const generated = z.toJSONSchema(imageExecutorOptionsSchema, { io: 'input', unrepresentable: 'any' }) as {
    properties: Record<string, Record<string, unknown>>;
  };
  const properties = Object.fromEntries(
    Object.entries(generated.properties).map(([name, { default: defaultValue, ...given }]) => {
      const shape = mergedTypeUnion(given);
      if (shape.anyOf || shape.oneOf || shape.allOf) throw new Error(`option "${name}": a top-level anyOf/oneOf/allOf needs another way to stay unchecked by Nx`);
      return [name, { ...(withoutDefaults(shape) as Record<string, unknown>), ...(defaultValue !== undefined ? { default: defaultValue } : {}), anyOf: [{ $ref: checkedByExecutorRef }] }];
    }),
  );
  const schema = {
    $schema: 'https://json-schema.org/schema',
    version: 2,
    title: 'nx-buildkit image executor',
    description:
      'Builds a container image with BuildKit, directly over gRPC (no docker CLI). The executor validates the options of every task of a run ' +
      'before any build starts, naming project, target and field.',
    type: 'object',
    properties,
    definitions: {
      checkedByExecutor: {
        description: 'Any value (the executor checks it)',
        // Nx's checker accepts a primitive for a schema without a type, but an array or object only under `type: array/object`.
        anyOf: [{ type: ['string', 'number', 'boolean', 'null'] }, { type: 'array', items: { $ref: checkedByExecutorRef } }, { type: 'object' }],
      },
    },
  };
  return JSON.stringify(schema, null, 2) + '\n';
}

/**
 * A union of differently typed shapes (`boolean | { generator }`) as one
 * schema with a list of types: each keyword applies only to values of its
 * type, so this says the same as the `anyOf`, which must stay free for
 * the any-value escape above.
 */
function mergedTypeUnion(shape: Record<string, unknown>): Record<string, unknown> {
  const members = shape.anyOf as Array<Record<string, unknown>> | undefined;
  if (!members || Object.keys(shape).some((k) => k !== 'anyOf' && k !== 'description')) return shape;
  const types = members.map((m) => m.type);
  if (!types.every((t) => typeof t === 'string') || new Set(types).size !== types.length) return shape;
  const { anyOf: _, ...rest } = shape;
  return { ...Object.assign({}, ...members), ...rest, type: types };
}

/** A JSON schema without any `default` keyword, at any depth. */
function withoutDefaults(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(withoutDefaults);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.entries(value).filter(([k]) => k !== 'default').map(([k, v]) => [k, withoutDefaults(v)]));
}
