import type { TreeSpec } from '../../e2e/support/files';

/** What {@link planningWorkspace} generated, for the report. */
export interface PlanningWorkspace {
  spec: TreeSpec;
  projects: number;
  /** Projects whose Dockerfile uses another project's image (FROM, COPY --from, RUN --mount from). */
  withImageDependencies: number;
  withDockerignore: number;
  files: number;
}

/** One base image per this many projects: the images others are built FROM. */
const baseEvery = 20;

/**
 * A monorepo of `count` image projects for the planning benchmark, each a
 * `project.json`, a Dockerfile and a few sources, laid out as real repositories
 * are (apps/, libs/, services/ under team folders), with the variety the
 * plugin's inference has to read:
 *
 * - one project in 20 is a base image `FROM nxbk-base`; a tenth of those set
 *   their own `imageName` (`acme/<name>`) and extra tags, which others use;
 * - the others are built FROM a base, by bare name, `name:tag`, the full
 *   `docker.io/library/…` form or the custom name, and every fifth is
 *   multi-stage with `COPY --from=<another base>` or a `RUN --mount=…,from=`;
 *   some use `$ARG` or digest-pinned references, which inference must skip;
 * - a third have a `.dockerignore` (translatable patterns, exceptions and
 *   patterns with character classes, which stay in the hash);
 * - a tenth set image target options in `project.json`.
 *
 * Deterministic: the same count gives the same tree.
 */
export function planningWorkspace(count: number): PlanningWorkspace {
  const spec: TreeSpec = {};
  const name = (i: number) => `${i % baseEvery === 0 ? 'base' : 'svc'}-${String(i).padStart(4, '0')}`;
  const root = (i: number) => `${['apps', 'libs', 'services'][i % 3]}/team-${String(Math.floor(i / 100)).padStart(2, '0')}/${name(i)}`;
  /** How other Dockerfiles refer to base `b`'s image (its own imageName when set). */
  const baseRef = (b: number, style: number) => {
    const custom = (b / baseEvery) % 10 === 3;
    if (custom) return style % 2 ? `acme/${name(b)}:stable` : `docker.io/acme/${name(b)}:stable`;
    return [name(b), `${name(b)}:latest`, `docker.io/library/${name(b)}:latest`, `${name(b)}`][style % 4]!;
  };
  const bases = Array.from({ length: Math.ceil(count / baseEvery) }, (_, k) => k * baseEvery);
  let withImageDependencies = 0;
  let withDockerignore = 0;

  for (let i = 0; i < count; i++) {
    const dir = root(i);
    const isBase = i % baseEvery === 0;
    const targetOptions: Record<string, unknown> = {};
    if (isBase && (i / baseEvery) % 10 === 3) Object.assign(targetOptions, { imageName: `acme/${name(i)}`, tags: ['latest', 'stable'] });
    if (!isBase && i % 10 === 7) Object.assign(targetOptions, { buildArgs: { NODE_ENV: 'production' }, labels: { team: `team-${Math.floor(i / 100)}` } });
    spec[`${dir}/project.json`] = JSON.stringify(
      {
        name: name(i),
        $schema: '../../../node_modules/nx/schemas/project-schema.json',
        sourceRoot: `${dir}/src`,
        tags: [`team:${Math.floor(i / 100)}`, isBase ? 'type:base' : 'type:service'],
        ...(Object.keys(targetOptions).length ? { targets: { image: { options: targetOptions } } } : {}),
      },
      null,
      2,
    );

    let dockerfile: string;
    if (isBase) {
      dockerfile = ['FROM nxbk-base:latest', 'RUN echo base > /base.txt', 'COPY src/ /opt/lib/', ''].join('\n');
    } else {
      withImageDependencies++;
      // A base among the 10 nearest (never the project itself: bases are not services).
      const from = bases[(Math.floor(i / baseEvery) + (i % 10)) % bases.length]!;
      const other = bases[(Math.floor(i / baseEvery) + 1 + (i % 7)) % bases.length]!;
      const lines = ['# generated for bench/nx-planning', 'ARG VERSION=1.0'];
      if (i % 5 === 0) {
        // Multi-stage: a build stage, then the runtime image copying from another project's image.
        lines.push('FROM nxbk-base:latest AS build', 'COPY src/ /src/', 'RUN wc -c /src/index.ts > /size.txt');
        lines.push(`FROM ${baseRef(from, i)} AS runtime`, 'COPY --from=build /size.txt /size.txt', `COPY --from=${baseRef(other, i + 1)} /base.txt /other-base.txt`);
      } else if (i % 5 === 1) {
        lines.push(`FROM ${baseRef(from, i)}`, `RUN --mount=type=bind,from=${baseRef(other, i + 2)},target=/mnt cat /mnt/base.txt`, 'COPY src/ /app/');
      } else if (i % 5 === 2) {
        // References inference must skip: an ARG, and a digest-pinned image.
        lines.push('FROM nxbk-base:${VERSION} AS tools', `FROM ${baseRef(from, i)}`, 'COPY --from=nxbk-base@sha256:' + '0'.repeat(64) + ' /bin/sh /bin/sh2', 'COPY src/ /app/');
      } else {
        lines.push(`FROM ${baseRef(from, i)}`, 'WORKDIR /app', 'COPY . .', 'RUN ls /app > /listing.txt');
      }
      lines.push('ENV PORT=8080', 'CMD ["sh", "-c", "cat /app/src/index.ts"]', '');
      dockerfile = lines.join('\n');
    }
    spec[`${dir}/Dockerfile`] = dockerfile;

    if (i % 3 === 1) {
      withDockerignore++;
      const patterns = ['node_modules', '*.log', 'dist/', '**/*.test.ts', '.env*'];
      if (i % 9 === 1) patterns.push('!important.log');
      if (i % 9 === 4) patterns.push('tmp[0-9]');
      spec[`${dir}/.dockerignore`] = patterns.join('\n') + '\n';
    }
    spec[`${dir}/src/index.ts`] = `export const name = '${name(i)}';\nexport function main(): void {\n  console.log(name);\n}\n`;
    spec[`${dir}/src/util.ts`] = `export const add = (a: number, b: number) => a + b + ${i};\n`;
    spec[`${dir}/src/index.test.ts`] = `import { add } from './util';\nif (add(1, 1) !== ${i + 2}) throw new Error('add');\n`;
    spec[`${dir}/README.md`] = `# ${name(i)}\n\nService ${i} of the planning benchmark.\n`;
  }
  return { spec, projects: count, withImageDependencies, withDockerignore, files: Object.keys(spec).length };
}
