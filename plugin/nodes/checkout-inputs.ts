import path from 'node:path';
import { ciBranchVariables, ciRefVariables } from '../metadata/index';

/** An Nx input that is not a file set: an environment variable or a command's output. */
export type CheckoutInput = { env: string } | { runtime: string };

/** What a target's image takes from the checkout besides the files it reads (see {@link checkoutInputs}). */
export interface CheckoutReads {
  /** Env and runtime inputs: the git facts and CI variables its labels, tags and timestamps come from. */
  inputs: CheckoutInput[];
  /** Workspace-relative project files read for labels and `{{version}}` (package.json, project.json). */
  files: string[];
}

/**
 * The git facts and CI variables an image depends on, as Nx inputs, so that
 * a commit, a branch or a pull request that changes the image (or the tags
 * it is pushed under) is a cache miss, never the replay of an image labelled
 * and tagged for another commit:
 *
 * - the generated OCI labels (`ociLabels`, on by default): the commit and its
 *   time (`revision`, `created`), a tag at HEAD (`version` when the project
 *   has none), the `origin` remote (`source`, `url`, `vendor`), and the
 *   project's package.json / project.json (`version`, `title`, `description`…);
 * - tag templates: `{{sha}}`, `{{commit-date}}` the commit; `{{tag}}` the tags
 *   at HEAD; `{{branch}}` the branch (git's, else the CI's variables);
 *   `{{pr}}` the CI's pull request variables; `{{ref}}` all of these;
 *   `{{version}}` the project files; `{{date}}` the current time (so a target
 *   tagged by date is built again, never replayed);
 * - `SOURCE_DATE_EPOCH` from the commit time, unless `buildArgs` sets it (the
 *   environment variable is an input of its own).
 *
 * The git facts are read by one shell command whose text depends only on what
 * is needed, so targets that need the same facts share it and Nx runs it once
 * per run. Its output is hashed, never shown; the remote's credentials are cut
 * from it anyway.
 */
export function checkoutInputs(variants: readonly Record<string, unknown>[], projectRoot: string): CheckoutReads {
  const need = new Set<Fact>();
  for (const options of variants) {
    const labels = options['ociLabels'] !== false;
    if (labels) for (const f of ['commit', 'tags', 'remote', 'project'] as const) need.add(f);
    if (!hasKey(options['buildArgs'], 'SOURCE_DATE_EPOCH')) need.add('commit-time');
    for (const placeholder of placeholdersOf(options['tags'])) for (const f of placeholderFacts[placeholder] ?? []) need.add(f);
  }
  const commands = gitCommands.filter(([fact]) => need.has(fact) && !(fact === 'commit-time' && need.has('commit'))).map(([, command]) => command);
  const inputs: CheckoutInput[] = [];
  if (commands.length > 0) inputs.push({ runtime: [...commands, 'true'].join('; ') });
  if (need.has('ci')) for (const env of ciVariables) inputs.push({ env });
  const files = need.has('project') ? ['package.json', 'project.json'].map((f) => (projectRoot === '.' ? f : path.posix.join(projectRoot, f))) : [];
  return { inputs, files };
}

type Fact = 'commit' | 'commit-time' | 'tags' | 'branch' | 'remote' | 'ci' | 'clock' | 'project';

/** What each tag template placeholder resolves from (plugin/metadata/tag-templates.ts). */
const placeholderFacts: Readonly<Record<string, readonly Fact[]>> = {
  sha: ['commit'],
  'commit-date': ['commit'],
  tag: ['tags'],
  branch: ['branch', 'ci'],
  pr: ['ci'],
  ref: ['tags', 'branch', 'ci'],
  version: ['project'],
  date: ['clock'],
};

/**
 * The shell commands reading each fact, in a fixed order (the command's text
 * is part of the hash: the same needs give the same text). Each tolerates a
 * workspace that is not a git repository: it then prints nothing, as the
 * executor then reads nothing.
 */
const gitCommands: readonly (readonly [Fact, string])[] = [
  ['commit', 'git log -1 --format=%H%n%cI HEAD 2>/dev/null'],
  ['commit-time', 'git log -1 --format=%ct HEAD 2>/dev/null'],
  ['tags', 'git tag --points-at HEAD 2>/dev/null'],
  ['branch', 'git symbolic-ref --quiet --short HEAD 2>/dev/null'],
  ['remote', "git remote get-url origin 2>/dev/null | sed 's#//[^/@]*@#//#'"],
  ['clock', 'date -u +%Y%m%dT%H%M%S'],
];

/**
 * The CI variables the branch, pull request and tag of a build are read from,
 * with those that decide whether another one counts (a tag build's
 * `GITHUB_REF_TYPE`, `CI_COMMIT_TAG`…).
 */
const ciVariables: readonly string[] = [
  ...new Set([...ciBranchVariables, ...ciRefVariables, 'GITHUB_REF_TYPE', 'CI_COMMIT_TAG', 'BUILDKITE_TAG', 'TRAVIS_TAG', 'DRONE_TAG', 'TAG_NAME']),
].sort();

/** The placeholder names in a `tags` option (`{{name}}` or `{{name:argument}}`); nothing for a value the executor will reject. */
function placeholdersOf(tags: unknown): string[] {
  if (!Array.isArray(tags)) return [];
  const names: string[] = [];
  for (const tag of tags) {
    if (typeof tag !== 'string') continue;
    // The tokenizer of tag-templates.ts: `{{` body `}}`, the name before any `:`, trimmed.
    for (const m of tag.matchAll(/\{\{([^{}]*)\}\}/g)) names.push(m[1]!.split(':')[0]!.trim());
  }
  return names;
}

function hasKey(value: unknown, key: string): boolean {
  return Boolean(value) && typeof value === 'object' && !Array.isArray(value) && key in (value as Record<string, unknown>);
}
