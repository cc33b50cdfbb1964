import { BuildkitError } from '../buildkit/foundation';
import type { CiRef } from './ci-ref';
import { formatDate } from './format-date';
import type { GitInfo, GitRepositoryInfo } from './git-info';
import { isValidTag, parseImageReference } from './image-reference';
import { sanitizeTag } from './sanitize-tag';
import { parseSemver } from './semver';

/**
 * Tag templates: `{{placeholder}}` or `{{placeholder:argument}}` inside
 * literal text, expanded into image tags (see README.md in this folder for
 * the user-facing description).
 *
 * The rule for image names: a template whose text outside placeholders has
 * no `/` and no `:` is a tag only (`v{{version}}`, `{{date:YYYYMMDD}}`) and
 * is applied to every configured image name. A template with a `/` or `:`
 * outside placeholders is a full reference `name:tag`; its tag is the part
 * after the last `:` that follows the last `/` (so `localhost:5000/app:{{sha}}`
 * works), and its name part may not contain placeholders.
 */

/** Everything a template can refer to; gathered once per project by the caller. */
export interface TagTemplateContext {
  /** From `readGitInfo`; templates that need git fail when it is unavailable. */
  git: GitInfo;
  /** The project's version as written in package.json / project.json, if any. */
  version?: string;
  /** The build time for `{{date}}`; injected so runs and tests are reproducible. */
  now: Date;
  /** Image names (without tag) that tag-only templates apply to. */
  images?: readonly string[];
  /** The pull request, tag and branch CI variables name, for `{{pr}}` and `{{ref}}` (`ciRefFromEnv`); none when absent. */
  ci?: CiRef;
  /** docker/metadata-action's `flavor`: applied to every rendered tag. */
  flavor?: TagFlavor;
}

/**
 * docker/metadata-action's `flavor`: `prefix` and `suffix` go around every
 * tag but `latest` (its `onlatest=false` default); `latest`: `true` adds a
 * `latest` tag, `false` drops any, `auto` keeps what the templates give.
 */
export interface TagFlavor {
  prefix?: string;
  suffix?: string;
  latest?: 'auto' | 'true' | 'false';
}

/** One concrete tag. */
export interface ExpandedTag {
  /** The template it came from, for messages. */
  template: string;
  /** The image name as configured or written in the template. */
  image: string;
  tag: string;
  /** `image:tag`. */
  reference: string;
}

/** A template that yields no tag in this checkout, and why (e.g. no git tag at HEAD). */
export interface DroppedTemplate {
  template: string;
  reason: string;
}

/** The result of {@link expandTagTemplates}. */
export interface TagExpansion {
  /** In template order, then image order; duplicates removed (first kept). */
  tags: ExpandedTag[];
  dropped: DroppedTemplate[];
}

type Part = { literal: string } | { placeholder: string; name: string; arg?: string };
type Resolved = { value: string } | { drop: string };

/** Placeholder names and what they accept, for error messages. */
const KNOWN_PLACEHOLDERS =
  'sha, sha:long, sha:<4-40>, branch, tag, pr, ref, version, version:major, version:major.minor, date[:FORMAT], commit-date[:FORMAT]';

/**
 * Expand tag templates into concrete image references. Templates whose
 * value is absent in this checkout (`{{tag}}` with no tag at HEAD,
 * `{{branch}}` on an unnamed detached HEAD, `{{version:major}}` of a
 * pre-release) are dropped and reported in `dropped`. Everything else that
 * cannot give a valid tag is an error: one `BuildkitError`
 * (`invalid-argument`) listing every failing template by its text.
 */
export function expandTagTemplates(templates: readonly string[], context: TagTemplateContext): TagExpansion {
  const errors: string[] = [];
  const images = validImages(context.images ?? [], errors);
  const tags: ExpandedTag[] = [];
  const dropped: DroppedTemplate[] = [];
  const seen = new Set<string>();
  const flavor = context.flavor ?? {};
  const all = flavor.latest === 'true' && !templates.includes('latest') ? [...templates, 'latest'] : templates;
  for (const template of all) {
    try {
      const { image, tagParts } = splitTemplate(template);
      let rendered = renderTag(tagParts, context);
      if ('value' in rendered && rendered.value === 'latest' && flavor.latest === 'false') rendered = { drop: 'flavor latest=false' };
      if ('drop' in rendered) {
        dropped.push({ template, reason: rendered.drop });
        continue;
      }
      if (rendered.value !== 'latest') rendered = { value: `${flavor.prefix ?? ''}${rendered.value}${flavor.suffix ?? ''}` };
      if (!isValidTag(rendered.value)) {
        throw new Error(`gives "${rendered.value}", which is not a valid tag (1 to 128 of [A-Za-z0-9_.-], starting with a letter, digit or _)`);
      }
      const targets = image !== undefined ? [image] : images;
      if (targets.length === 0) throw new Error('is a tag only, but no image name is configured to apply it to');
      for (const target of targets) {
        const reference = `${target}:${rendered.value}`;
        if (seen.has(reference)) continue;
        seen.add(reference);
        tags.push({ template, image: target, tag: rendered.value, reference });
      }
    } catch (err) {
      errors.push(`tag template "${template}" ${(err as Error).message}`);
    }
  }
  if (errors.length === 1) throw new BuildkitError('invalid-argument', errors[0]!);
  if (errors.length > 1) throw new BuildkitError('invalid-argument', `invalid tag templates:\n${errors.map((e) => `  - ${e}`).join('\n')}`);
  return { tags, dropped };
}

function validImages(images: readonly string[], errors: string[]): string[] {
  const valid: string[] = [];
  for (const image of images) {
    try {
      const ref = parseImageReference(image);
      if (ref.tag !== undefined || ref.digest !== undefined) throw new Error(`image name "${image}" must not include a tag or digest; tags come from the tag templates`);
      valid.push(image);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  return valid;
}

/** Separate a full-reference template's image name from its tag part (see the module comment for the rule). */
function splitTemplate(template: string): { image?: string; tagParts: Part[] } {
  const parts = tokenize(template);
  // The template with every placeholder blanked out, so ':' inside `{{date:…}}` is not a separator.
  const mask = parts.map((p) => ('literal' in p ? p.literal : '\0'.repeat(p.placeholder.length))).join('');
  const slash = mask.lastIndexOf('/');
  const colon = mask.lastIndexOf(':');
  if (slash === -1 && colon === -1) return { tagParts: parts };
  if (colon < slash) throw new Error('names an image but has no tag part; write "name:tag", or give the tag alone to apply it to the configured images');
  const image = template.slice(0, colon);
  if (mask.slice(0, colon).includes('\0')) throw new Error('has a placeholder in its image name; placeholders are allowed only in the tag part');
  const ref = attempt(() => parseImageReference(image), 'has an invalid image name');
  if (ref.digest !== undefined) throw new Error('has a digest; templates give tags');
  return { image, tagParts: tokenize(template.slice(colon + 1)) };
}

function tokenize(template: string): Part[] {
  const parts: Part[] = [];
  const pattern = /\{\{([^{}]*)\}\}/g;
  let last = 0;
  const literal = (text: string) => {
    if (text.includes('{') || text.includes('}')) throw new Error('has an unbalanced "{{" or "}}"');
    if (text !== '') parts.push({ literal: text });
  };
  for (let match = pattern.exec(template); match; match = pattern.exec(template)) {
    literal(template.slice(last, match.index));
    const body = match[1]!.trim();
    const colon = body.indexOf(':');
    const name = colon === -1 ? body : body.slice(0, colon).trim();
    const part: Part = { placeholder: match[0], name };
    if (colon !== -1) part.arg = body.slice(colon + 1).trim();
    parts.push(part);
    last = match.index + match[0].length;
  }
  literal(template.slice(last));
  return parts;
}

function renderTag(parts: Part[], context: TagTemplateContext): Resolved {
  if (parts.length === 0) throw new Error('gives an empty tag');
  let value = '';
  for (const part of parts) {
    if ('literal' in part) {
      value += part.literal;
      continue;
    }
    const resolved = resolvePlaceholder(part.name, part.arg, context);
    if ('drop' in resolved) return resolved;
    value += resolved.value;
  }
  return { value };
}

function resolvePlaceholder(name: string, arg: string | undefined, context: TagTemplateContext): Resolved {
  switch (name) {
    case 'sha': {
      const git = needGit(context, name);
      if (arg === undefined || arg === 'short') return { value: git.shortSha };
      if (arg === 'long') return { value: git.sha };
      const length = /^\d+$/.test(arg) ? Number(arg) : NaN;
      if (length >= 4 && length <= 40) return { value: git.sha.slice(0, length) };
      throw new Error(`has {{sha:${arg}}}; the argument is short, long, or a length from 4 to 40`);
    }
    case 'branch': {
      noArgument(name, arg);
      const git = needGit(context, name);
      if (git.branch === undefined) return { drop: 'HEAD is detached and no CI variable names a branch' };
      const branch = sanitizeTag(git.branch);
      return branch === '' ? { drop: `branch "${git.branch}" has no characters usable in a tag` } : { value: branch };
    }
    case 'tag': {
      noArgument(name, arg);
      const git = needGit(context, name);
      if (git.tag === undefined) return { drop: 'no git tag points at HEAD' };
      const tag = sanitizeTag(git.tag);
      return tag === '' ? { drop: `git tag "${git.tag}" has no characters usable in a tag` } : { value: tag };
    }
    case 'pr': {
      noArgument(name, arg);
      const pr = context.ci?.pullRequest;
      return pr ? { value: pr.number } : { drop: 'not a pull/merge request build (no CI variable names one)' };
    }
    case 'ref':
      noArgument(name, arg);
      return refPart(context);
    case 'version':
      return versionPart(arg, context.version);
    case 'date':
      return { value: attempt(() => formatDate(context.now, arg || 'YYYYMMDD'), `has {{${name}:${arg}}}`) };
    case 'commit-date': {
      const git = needGit(context, name);
      return { value: attempt(() => formatDate(new Date(git.commitTime), arg || 'YYYYMMDD'), `has {{${name}:${arg}}}`) };
    }
    default:
      throw new Error(`uses unknown placeholder {{${name}}} (known: ${KNOWN_PLACEHOLDERS})`);
  }
}

/**
 * docker/metadata-action's `type=ref` for the build at hand: `pr-<number>`
 * on a pull request, the tag on a tag build, else the branch (git's, or the
 * CI's on a detached HEAD), else a git tag at HEAD; sanitized as tags are.
 */
function refPart(context: TagTemplateContext): Resolved {
  const { ci, git } = context;
  if (ci?.pullRequest) return { value: `pr-${ci.pullRequest.number}` };
  const repo = git.kind === 'repository' ? git : undefined;
  const name = ci?.tag?.name ?? repo?.branch ?? ci?.branch?.name ?? repo?.tag;
  if (name === undefined) return { drop: 'no pull request, tag or branch names this build' };
  const value = sanitizeTag(name);
  return value === '' ? { drop: `ref "${name}" has no characters usable in a tag` } : { value };
}

function versionPart(arg: string | undefined, version: string | undefined): Resolved {
  if (arg !== undefined && arg !== 'major' && arg !== 'major.minor') {
    throw new Error(`has {{version:${arg}}}; the argument is major or major.minor`);
  }
  if (version === undefined) throw new Error('needs the project version, but neither package.json nor project.json has a "version"');
  const semver = parseSemver(version);
  if (!semver) throw new Error(`needs a semantic version, but the project version is "${version}"`);
  if (arg === undefined) return { value: semver.version };
  // A pre-release must not move the floating major/minor tags users pull (as metadata-action does).
  if (semver.prerelease.length > 0) return { drop: `${semver.version} is a pre-release, which gets no ${arg} tag` };
  return { value: arg === 'major' ? `${semver.major}` : `${semver.major}.${semver.minor}` };
}

function needGit(context: TagTemplateContext, placeholder: string): GitRepositoryInfo {
  if (context.git.kind === 'repository') return context.git;
  throw new Error(`needs git for {{${placeholder}}}, but ${context.git.reason}`);
}

function noArgument(name: string, arg: string | undefined): void {
  if (arg !== undefined) throw new Error(`has {{${name}:${arg}}}, but {{${name}}} takes no argument`);
}

/** Run `fn`, prefixing the message of anything it throws with `context`. */
function attempt<T>(fn: () => T, context: string): T {
  try {
    return fn();
  } catch (err) {
    throw new Error(`${context}: ${(err as Error).message}`);
  }
}
