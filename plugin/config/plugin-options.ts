import { z } from 'zod';
import { imageExecutorOptionsSchema, InvalidOptionsError } from './executor-options';

/** Base names the plugin's discovery glob can see (see `dockerfileDiscoveryGlob` in plugin/nodes). */
const discoverableName = /(?:Dockerfile|dockerfile|Containerfile|containerfile)[^/]*$/;

/**
 * Executor options that describe one project's image and so make no sense as
 * a default shared by every inferred target.
 */
const perProjectOptions = ['context', 'dockerfile', 'imageName', 'metadataFile'] as const;

/**
 * Options of the nx-buildkit plugin entry in `nx.json`
 * (`plugins: [{ plugin: 'nx-buildkit', options: {...} }]`).
 */
export const pluginOptionsSchema = z
  .object({
    targetName: z
      .string()
      .regex(/^[^\s:]+$/, 'must be a target name without spaces or ":"')
      .default('image')
      .describe('Name of the inferred target'),
    dockerfilePatterns: z
      .array(
        z
          .string()
          .min(1, 'must not be empty')
          .regex(discoverableName, 'must name files whose name contains "Dockerfile" or "Containerfile" (any case of the first letter)'),
      )
      .min(1, 'must list at least one pattern')
      .default(['**/Dockerfile'])
      .describe('Globs (relative to the workspace root) of the Dockerfiles that make a project an image project'),
    options: z
      .record(z.string(), z.unknown())
      .default({})
      .describe('Executor options merged under every inferred target\'s options'),
  })
  .strict();

/** Plugin options as users write them in `nx.json`. */
export type NxBuildkitPluginOptions = z.input<typeof pluginOptionsSchema>;
/** Plugin options after validation, every default filled in. */
export type NormalizedPluginOptions = z.output<typeof pluginOptionsSchema>;

/**
 * Validate the plugin options from `nx.json`. Throws {@link InvalidOptionsError}
 * listing every problem, each naming the option as
 * `nx-buildkit plugin option "<name>"`.
 */
export function parsePluginOptions(raw: unknown): NormalizedPluginOptions {
  const parsed = pluginOptionsSchema.safeParse(raw ?? {});
  const problems = parsed.success ? [] : parsed.error.issues.flatMap((i) => describeIssue(i, []));
  // Check the executor defaults even when other options are wrong, so every problem is listed at once.
  const defaults = parsed.success ? parsed.data.options : (raw as { options?: unknown } | null)?.options;
  if (defaults && typeof defaults === 'object' && !Array.isArray(defaults)) problems.push(...checkTargetDefaults(defaults as Record<string, unknown>));
  // Nx prints this message without saying where the options live; name the file.
  if (!parsed.success || problems.length > 0) throw new InvalidOptionsError(problems, 'invalid nx-buildkit plugin options in nx.json:');
  return parsed.data;
}

/**
 * `options` are executor options: check them now against the executor's own
 * schema so a typo fails when the graph is built, not in every task later.
 * Only validated here; the executor parses (and defaults) them again.
 */
function checkTargetDefaults(defaults: Record<string, unknown>): string[] {
  const problems = perProjectOptions
    .filter((key) => key in defaults)
    .map((key) => `${label(['options', key])}: describes one project's image; set it in that project's target options instead`);
  const rest = Object.fromEntries(Object.entries(defaults).filter(([key]) => !(perProjectOptions as readonly string[]).includes(key)));
  // No defaults (the usual entry): nothing to check, and not compiling the executor's large schema
  // keeps a few hundred milliseconds out of every graph computation (bench/nx-planning).
  if (Object.keys(rest).length === 0) return problems;
  const parsed = imageExecutorOptionsSchema.safeParse(rest);
  if (!parsed.success) problems.push(...parsed.error.issues.flatMap((i) => describeIssue(i, ['options'])));
  return problems;
}

function describeIssue(issue: z.core.$ZodIssue, prefix: string[]): string[] {
  const at = [...prefix, ...issue.path.map(String)];
  if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => `${label([...at, key])}: unknown option`);
  if (at.length === 0) return [`nx-buildkit plugin options: ${issue.message}`];
  return [`${label(at)}: ${issue.message}`];
}

function label(at: string[]): string {
  return `nx-buildkit plugin option "${at.join('.')}"`;
}
