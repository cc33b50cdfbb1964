import { z } from 'zod';
import { asListHint, didYouMean } from './did-you-mean';
import { cacheEntryFromCsv, outputFromCsv, secretFromCsv, sshFromCsv, type FromCsv } from './buildx-csv-options';

/**
 * Options of the `nx-buildkit:image` executor: the one source of truth.
 * `executors/image/schema.json` is generated from this schema (a test checks
 * they agree), and everything downstream receives the normalized, fully
 * filled result of {@link normalizeImageOptions}.
 */

const nonEmpty = z.string().min(1, 'must not be empty');

const secretOption = z
  .object({
    id: nonEmpty.regex(/^[A-Za-z0-9_.-]+$/, 'may only contain letters, digits, ".", "_" and "-"'),
    file: nonEmpty.optional().describe('File whose contents are the secret (relative to the workspace root)'),
    env: nonEmpty.optional().describe('Environment variable holding the secret'),
  })
  .strict()
  .refine((s) => (s.file === undefined) !== (s.env === undefined), { message: 'needs exactly one source: "file" or "env"' });

const sshOption = z
  .object({
    id: nonEmpty.default('default'),
    paths: z.array(nonEmpty).default([]).describe('Agent socket or private key files; empty = SSH_AUTH_SOCK'),
  })
  .strict();

const outputOption = z.discriminatedUnion('type', [
  z.object({ type: z.literal('local'), dest: nonEmpty }).strict(),
  z.object({ type: z.literal('tar'), dest: nonEmpty }).strict(),
  z.object({ type: z.literal('oci'), dest: nonEmpty, tar: z.boolean().default(true) }).strict(),
  z.object({ type: z.literal('docker'), dest: nonEmpty }).strict(),
  // buildx's `type=cacheonly`: build without exporting, and without the default load or the warning.
  z.object({ type: z.literal('cacheonly') }).strict(),
]);

const cacheOption = z
  .object({
    type: z.enum(['registry', 'local', 'inline', 'gha', 's3', 'azblob']),
    attrs: z.record(z.string(), z.string()).default({}),
  })
  .strict();

/**
 * An option item given either as our object or as the string buildx takes for
 * the same flag (`type=registry,ref=…,mode=max`): the string is read into the
 * object form and checked by the same schema, so what comes out is the same.
 */
function orBuildxCsv<T extends z.ZodType<Record<string, unknown>>>(schema: T, fromCsv: (text: string) => FromCsv, example: string) {
  const csv = z
    .string()
    .describe(`buildx's string form, e.g. ${example}`)
    .transform((text, ctx): z.output<T> => {
      const read = fromCsv(text);
      if ('problem' in read) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)}: ${read.problem}` });
        return z.NEVER;
      }
      const checked = schema.safeParse(read.value);
      if (checked.success) return checked.data;
      for (const issue of checked.error.issues) {
        ctx.addIssue({ code: 'custom', message: `${JSON.stringify(text)}: ${issue.path.length ? `"${issue.path.join('.')}" ` : ''}${issue.message}` });
      }
      return z.NEVER;
    });
  return z.union([csv, schema]);
}

/** Options whose items may also be written as buildx's strings. */
export const buildxCsvOptions = new Set(['cacheFrom', 'cacheTo', 'outputs', 'secrets', 'ssh']);

const cacheItem = orBuildxCsv(cacheOption, cacheEntryFromCsv, 'type=registry,ref=registry.example/app:cache,mode=max');

/**
 * A tag (Docker's grammar), a full image name, or a template of either with
 * `{{…}}` placeholders; templates are checked again once expanded.
 */
const tagTemplatePattern = /^(?:[\w{][\w.{}:/-]*|[a-z0-9{][\w.{}:/-]*)$/;

export const imageExecutorOptionsSchema = z
  .object({
    context: nonEmpty.optional().describe('Build context directory, relative to the workspace root (default: the project root)'),
    dockerfile: nonEmpty.optional().describe('Dockerfile path, relative to the workspace root (default: <context>/Dockerfile)'),
    target: nonEmpty.optional().describe('Stage to build'),
    imageName: nonEmpty
      .regex(/^(?:[a-zA-Z0-9.-]+(?::\d+)?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, 'is not a valid image repository name')
      .optional()
      .describe('Image repository name (default: the project name); other images refer to this image by it'),
    tags: z
      .array(nonEmpty.regex(tagTemplatePattern, 'is not a valid tag or tag template'))
      .default(['latest'])
      .describe('Tags applied to imageName, or full image names; templates like {{sha}}, {{branch}}, {{version}}, {{date:YYYYMMDD}} (plugin/metadata/README.md)'),
    tagFlavor: z
      .object({
        latest: z.enum(['auto', 'true', 'false']).default('auto').describe('true: add a latest tag; false: drop it; auto: as the tags give'),
        prefix: z.string().regex(/^[\w.-]*$/, 'may only contain letters, digits, "_", "." and "-"').default(''),
        suffix: z.string().regex(/^[\w.-]*$/, 'may only contain letters, digits, "_", "." and "-"').default(''),
      })
      .strict()
      .default({ latest: 'auto', prefix: '', suffix: '' })
      .describe("docker/metadata-action's flavor: prefix and suffix around every tag but latest, and whether latest is added or dropped"),
    ociLabels: z.boolean().default(true).describe('Add org.opencontainers.image.* labels from git and package metadata (labels given here win)'),
    buildArgs: z.record(z.string(), z.string()).default({}),
    labels: z.record(z.string(), z.string()).default({}),
    platforms: z.array(nonEmpty.regex(/^[a-z0-9]+\/[a-z0-9_]+(?:\/[a-z0-9]+)?$/, 'is not a platform like linux/amd64')).default([]),
    push: z.boolean().default(false).describe('Push the tagged image to its registry'),
    load: z
      .boolean()
      .default(false)
      .describe('Load the image into a Docker engine: the builder itself, or with a standalone buildkitd the engine at DOCKER_HOST (else /var/run/docker.sock). On a Docker engine an image with no push, load or outputs is loaded anyway'),
    insecureRegistry: z.boolean().default(false).describe('Push over plain HTTP'),
    outputs: z.array(orBuildxCsv(outputOption, outputFromCsv, 'type=local,dest=dist/out')).default([]),
    cacheFrom: z
      .array(cacheItem)
      .default([])
      .describe(
        'Cache to import (type registry, local, gha, s3, azblob; attrs as buildx --cache-from, which strings like type=registry,ref=… also take). Steps after a FROM match only if the exporting build keyed that base as this one does: export from a build that pulls its base from the registry, and set pull: true here (a classic Docker engine otherwise resolves the base from its image store); see the README',
      ),
    cacheTo: z.array(cacheItem).default([]),
    secrets: z.array(orBuildxCsv(secretOption, secretFromCsv, 'id=npm,src=.npmrc')).default([]),
    ssh: z.array(orBuildxCsv(sshOption, sshFromCsv, 'default')).default([]),
    namedContexts: z.record(nonEmpty, nonEmpty).default({}).describe('name → docker-image://ref, local:<dir>, oci-layout://<dir>[:tag], or target:<project>[:<target>] (the image another task of the run builds, linked in the daemon)'),
    allowOutsideWorkspace: z
      .array(nonEmpty)
      .default([])
      .describe('Directories outside the workspace root that context, dockerfile and local:/oci-layout:// namedContexts may read (relative to the workspace root or absolute; symlinks resolved), like buildx --allow fs.read=<dir>; "*" allows any'),
    network: z.enum(['default', 'none', 'host']).default('default'),
    extraHosts: z.record(nonEmpty, nonEmpty).default({}),
    noCache: z.boolean().default(false),
    noCacheFilter: z.array(nonEmpty).default([]).describe('Stages built without cache (buildx --no-cache-filter); noCache: true covers every stage'),
    shmSize: nonEmpty
      .regex(/^[1-9]\d*(?:[bkmg]b?)?$/i, 'is not a size like 128m, 1g or a number of bytes')
      .optional()
      .describe('Size of /dev/shm for RUN steps (buildx --shm-size): a number of bytes, or with k, m or g, e.g. "128m"'),
    ulimits: z
      .array(nonEmpty.regex(/^[a-z]+=-?\d+(?::-?\d+)?$/, 'is not a ulimit like nofile=1024:2048'))
      .default([])
      .describe('Resource limits for RUN steps (buildx --ulimit), e.g. nofile=1024:2048'),
    cgroupParent: nonEmpty.optional().describe('Parent cgroup of RUN steps (buildx --cgroup-parent)'),
    allow: z
      .array(z.enum(['network.host', 'security.insecure']))
      .default([])
      .describe('Entitlements the build asks for (buildx --allow): network.host, security.insecure (RUN --security=insecure); the builder must allow them too'),
    provenance: z
      .enum(['false', 'min', 'max'])
      .default('false')
      .describe('SLSA provenance attestation attached to the image index (buildx --provenance mode=min|max); needs a containerd-store engine or a buildkitd'),
    sbom: z
      .union([
        z.boolean(),
        z
          .object({
            generator: nonEmpty
              .regex(/^[^\s,"]+$/, 'is not an image reference')
              .optional()
              .describe('Image of an SBOM generator (BuildKit\'s SBOM scanner protocol); default: the frontend\'s, docker/buildkit-syft-scanner'),
          })
          .strict(),
      ])
      .default(false)
      .describe('SBOM attestation attached to the image index (buildx --sbom / --attest type=sbom,generator=…): true, or { generator }; the builder must be able to pull the generator image; needs a containerd-store engine or a buildkitd'),
    annotations: z
      .array(nonEmpty.regex(/^(?:(?:manifest|index|manifest-descriptor|index-descriptor):)?[^=\s:]+=.*$/s, 'is not an annotation like key=value or index:key=value'))
      .default([])
      .describe('OCI annotations on the exported image (buildx --annotation): key=value on the manifest, or prefixed with index:, manifest-descriptor: or index-descriptor:'),
    pull: z.boolean().default(false),
    sessionPolicy: z
      .object({ context: z.enum(['shared', 'isolated']).default('shared') })
      .strict()
      .default({ context: 'shared' })
      .describe('shared: the run\'s shared session serves the context; isolated: only this target\'s own session does'),
    builder: nonEmpty.optional().describe('Builder address: unix://, tcp://, docker://'),
    builderTls: z
      .object({
        caFile: nonEmpty.optional().describe('PEM CA bundle that signs the builder\'s certificate'),
        certFile: nonEmpty.optional().describe('PEM client certificate (mutual TLS; with keyFile)'),
        keyFile: nonEmpty.optional().describe('PEM client key (mutual TLS; with certFile)'),
        serverName: nonEmpty.optional().describe('Name to verify the builder\'s certificate against (default: its host)'),
      })
      .strict()
      .optional()
      .describe('TLS for a tcp:// builder; files relative to the workspace root'),
    dockerConfig: nonEmpty.optional().describe('Directory of the Docker config.json with registry credentials'),
    credentialHelperTimeoutMs: z
      .number()
      .int()
      .min(100)
      .default(10_000)
      .describe('A Docker credential helper that has not answered after this many milliseconds fails the target'),
    progress: z
      .enum(['auto', 'tty', 'plain', 'json', 'quiet'])
      .default('auto')
      .describe('auto: tty on a terminal outside CI, else plain; json: one event per line; the same for every task of a run'),
    metadataFile: nonEmpty.optional().describe('Where the build metadata JSON is written (default: dist/images/<projectRoot>/metadata.json)'),
    bakeMetadataFile: nonEmpty
      .optional()
      .describe('One file for the whole run, in docker buildx bake --metadata-file shape (keyed by project), relative to the workspace root; the same for every task of a run'),
    concurrency: z.number().int().min(1).max(64).default(4).describe('Most solves at once in one run'),
    failureMode: z.enum(['keep-going', 'fail-fast']).default('keep-going'),
    print: z.union([z.boolean(), z.string().regex(/^json$/, 'expected true, false or "json"')]).default(false).describe('Print the resolved plan (\'json\': as one line of JSON, for tools), and the builder\'s capabilities if it answers, and exit without building'),
  })
  .strict();

/** Options after validation, every default filled in. */
export type ImageExecutorOptions = z.output<typeof imageExecutorOptionsSchema>;

/**
 * Validate one task's options. Errors name the project, the target and the
 * offending field, and list every problem at once.
 */
export function parseImageOptions(raw: unknown, where: { project: string; target: string }): ImageExecutorOptions {
  const parsed = imageExecutorOptionsSchema.safeParse(raw ?? {});
  if (parsed.success) return parsed.data;
  const describe = (issue: z.core.$ZodIssue, at: string[]): string[] => {
    if (issue.code === 'unrecognized_keys') {
      const known = at.length === 0 ? Object.keys(imageExecutorOptionsSchema.shape) : [];
      return issue.keys.map((k) => {
        const meant = didYouMean(k, known);
        return `${where.project}:${where.target}: unknown option "${[...at, k].join('.')}"${meant ? ` (did you mean "${meant}"?)` : ''}`;
      });
    }
    if (issue.code === 'invalid_union') {
      // A string-or-object item: report the problems of the form that was given, not "Invalid input".
      const fitting = issue.errors.filter((branch) => !(branch.length === 1 && branch[0]!.code === 'invalid_type' && branch[0]!.path.length === 0));
      if (fitting.length === 1) return fitting[0]!.flatMap((inner) => describe(inner, [...at, ...inner.path.map(String)]));
      if (fitting.length === 0) {
        // No branch took the value's type: name the types they take (a string is buildx's form where one exists).
        const expected = issue.errors.map((branch) => {
          const type = branch[0]?.code === 'invalid_type' ? String(branch[0].expected) : 'value';
          return type === 'string' && buildxCsvOptions.has(at[0]!) ? "buildx's string form" : type === 'object' ? 'an object' : `a ${type}`;
        });
        return [`${where.project}:${where.target}: option "${at.join('.')}": expected ${[...new Set(expected)].join(' or ')}`];
      }
    }
    const field = at[0];
    const hint =
      at.length === 1 && issue.code === 'invalid_type' && issue.expected === 'array'
        ? asListHint((raw as Record<string, unknown>)[field!], { commas: !buildxCsvOptions.has(field!) })
        : undefined;
    return [`${where.project}:${where.target}: option "${at.join('.') || '(options)'}": ${issue.message}${hint ? ` (${hint})` : ''}`];
  };
  throw new InvalidOptionsError(parsed.error.issues.flatMap((issue) => describe(issue, issue.path.map(String))));
}

/** Invalid executor or plugin options; the message lists every problem, after `heading` when given. */
export class InvalidOptionsError extends Error {
  override readonly name = 'InvalidOptionsError';
  constructor(readonly problems: readonly string[], heading?: string) {
    super([...(heading ? [heading] : []), ...problems].join('\n'));
  }
}
