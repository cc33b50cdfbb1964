import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BuildkitError } from '../buildkit/foundation';
import { gitRemoteToWebUrl } from './git-remote-url';

/** What a project's `package.json` / `project.json` say about it, normalized for labels and tags. */
export interface ProjectMetadata {
  name?: string;
  /** The `version` field as written (not validated; tag templates check it is semver). */
  version?: string;
  description?: string;
  /** SPDX expression; several legacy `licenses` entries are joined with ` OR `. */
  license?: string;
  /** `Name <email>` of the author (package.json `author`, string or object). */
  authors?: string;
  homepage?: string;
  /** The declared `repository`, as a browsable URL when it can be made one. */
  repositoryUrl?: string;
}

/**
 * Read `package.json` then `project.json` in `projectRoot`; a field comes
 * from package.json when it has it, else from project.json. Missing files
 * give an empty result; a file that is not a JSON object is an
 * `invalid-argument` error naming it.
 */
export async function readProjectMetadata(projectRoot: string, options: { signal?: AbortSignal } = {}): Promise<ProjectMetadata> {
  const [pkg, project] = await Promise.all([
    readJsonObject(join(projectRoot, 'package.json'), options.signal),
    readJsonObject(join(projectRoot, 'project.json'), options.signal),
  ]);
  return projectMetadataFrom(pkg, project);
}

/** Pure part of {@link readProjectMetadata}: merge already-parsed manifests. */
export function projectMetadataFrom(packageJson: Record<string, unknown> | undefined, projectJson?: Record<string, unknown>): ProjectMetadata {
  const pkg = packageJson ?? {};
  const project = projectJson ?? {};
  const result: ProjectMetadata = {};
  const set = <K extends keyof ProjectMetadata>(key: K, value: string | undefined) => {
    if (value !== undefined && value.trim() !== '') result[key] = value.trim();
  };
  set('name', text(pkg.name) ?? text(project.name));
  set('version', text(pkg.version) ?? text(project.version));
  set('description', text(pkg.description) ?? text(project.description));
  set('license', licenseOf(pkg));
  set('authors', personOf(pkg.author));
  set('homepage', text(pkg.homepage));
  set('repositoryUrl', repositoryOf(pkg.repository));
  return result;
}

function text(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}

/** `license: "MIT"`, the old `license: { type }`, or the older `licenses: [{ type }]` (a choice between them). */
function licenseOf(pkg: Record<string, unknown>): string | undefined {
  const typeOf = (v: unknown) => text(v) ?? (isObject(v) ? text(v.type) : undefined);
  const license = typeOf(pkg.license);
  if (license !== undefined) return license;
  if (!Array.isArray(pkg.licenses)) return undefined;
  const all = pkg.licenses.map(typeOf).filter((t): t is string => t !== undefined && t !== '');
  return all.length > 0 ? all.join(' OR ') : undefined;
}

/** npm's person field: `"Name <email> (url)"` kept as `Name <email>`, or `{ name, email }`. */
function personOf(person: unknown): string | undefined {
  if (typeof person === 'string') return person.replace(/\s*\([^)]*\)\s*$/, '');
  if (!isObject(person)) return undefined;
  const name = text(person.name);
  const email = text(person.email);
  if (name && email) return `${name} <${email}>`;
  return name ?? (email ? `<${email}>` : undefined);
}

/** npm's `repository`: a URL, `{ url }`, or the shorthands `github:o/r`, `gitlab:o/r`, `bitbucket:o/r`, `o/r`. */
function repositoryOf(repository: unknown): string | undefined {
  const raw = text(repository) ?? (isObject(repository) ? text(repository.url) : undefined);
  if (raw === undefined) return undefined;
  const shorthand = /^(?:(github|gitlab|bitbucket):)?([\w.-]+\/[\w.-]+)$/.exec(raw);
  if (shorthand) {
    const host = SHORTHAND_HOSTS[shorthand[1] ?? 'github'];
    return `https://${host}/${shorthand[2]!.replace(/\.git$/, '')}`;
  }
  return gitRemoteToWebUrl(raw);
}

const SHORTHAND_HOSTS: Record<string, string> = { github: 'github.com', gitlab: 'gitlab.com', bitbucket: 'bitbucket.org' };

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

async function readJsonObject(file: string, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
  let content: string;
  try {
    content = await readFile(file, { encoding: 'utf8', signal });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw BuildkitError.from(err, `reading ${file}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(content);
  } catch (err) {
    throw new BuildkitError('invalid-argument', `${file} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  if (!isObject(parsed)) throw new BuildkitError('invalid-argument', `${file} must contain a JSON object`);
  return parsed;
}
