import { csvPairs } from '../../plugin/config/buildx-csv';
import { cacheEntryFromCsv, outputFromCsv, sshFromCsv, type FromCsv } from '../../plugin/config/buildx-csv-options';
import { defaultTagRules, tagRuleToTemplate } from './metadata-tags';

/** nx-buildkit options for one set of nx-container options, and what did not carry over. */
export interface Conversion {
  options: Record<string, unknown>;
  /** Options left out or whose meaning changed: each needs the user's attention. */
  problems: string[];
  /** Options mapped with a difference worth knowing. */
  notes: string[];
}

/**
 * The options of an `@nx-tools/nx-container:build` (or `@nx/docker:build`,
 * which takes the same inputs) target, or of one of its configurations, as
 * `nx-buildkit:image` options. Pure: the generator reads and writes the
 * files. Every input is either mapped, or named in `problems` with why; none
 * is dropped without a word.
 *
 * `base`: these are the target's own options (not a configuration's), where
 * nx-container's defaults that differ from ours are written out: the
 * workspace root as context, `<projectRoot>/Dockerfile`, and no OCI labels
 * unless `metadata.images` asks for them.
 */
export function convertNxContainerOptions(raw: Record<string, unknown>, { projectRoot, base }: { projectRoot: string; base: boolean }): Conversion {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  const notes: string[] = [];
  const leftOut = (name: string, why: string) => problems.push(`"${name}" left out: ${why}`);
  const metadata = isObject(raw['metadata']) ? raw['metadata'] : undefined;
  const fromMetadata = metadata !== undefined && list(metadata['images'])?.length;

  if (base) {
    if (raw['context'] === undefined) out['context'] = '.';
    if (raw['file'] === undefined) out['dockerfile'] = joinPath(projectRoot, 'Dockerfile');
    if (!fromMetadata) out['ociLabels'] = false;
  }

  for (const [name, value] of Object.entries(raw)) {
    switch (name) {
      case 'context':
        if (/^(https?:\/\/|git@|github\.com\/)/.test(String(value))) leftOut(name, 'a remote (git or URL) context is not supported');
        else out['context'] = String(value);
        break;
      case 'file':
        out['dockerfile'] = String(value);
        break;
      case 'tags':
        if (fromMetadata) leftOut(name, 'nx-container ignores it when metadata.images is set (the metadata tags are used)');
        else out['tags'] = list(value, true);
        break;
      case 'labels':
        if (fromMetadata) leftOut(name, 'nx-container ignores it when metadata.images is set (metadata.labels are used)');
        else putPairs(out, 'labels', name, list(value) ?? [], problems);
        break;
      case 'build-args':
        putPairs(out, 'buildArgs', name, list(value) ?? [], problems);
        break;
      case 'push':
      case 'load':
      case 'pull':
      case 'no-cache':
        out[name === 'no-cache' ? 'noCache' : name] = value === true || value === 'true';
        break;
      case 'platforms':
        out['platforms'] = list(value, true);
        break;
      case 'cache-from':
      case 'cache-to':
        out[name === 'cache-from' ? 'cacheFrom' : 'cacheTo'] = checked(name, list(value) ?? [], cacheEntryFromCsv, problems);
        break;
      case 'outputs':
        convertOutputs(list(value) ?? [], out, problems, notes);
        break;
      case 'secrets':
      case 'secret-files':
        convertSecrets(name, list(value) ?? [], out, problems);
        break;
      case 'ssh':
        out['ssh'] = checked(name, list(value) ?? [], sshFromCsv, problems);
        break;
      case 'target':
        out['target'] = String(value);
        break;
      case 'add-hosts': {
        const hosts: Record<string, string> = {};
        for (const entry of list(value) ?? []) {
          const m = /^([^:=]+)[:=](.+)$/.exec(entry);
          if (m) hosts[m[1]!] = m[2]!;
          else leftOut(`${name}: ${entry}`, 'not host:ip');
        }
        out['extraHosts'] = hosts;
        break;
      }
      case 'allow': {
        const known = ['network.host', 'security.insecure'];
        const items = list(value, true) ?? [];
        for (const a of items.filter((a) => !known.includes(a))) leftOut(`${name}: ${a}`, `entitlements are ${known.join(', ')}`);
        out['allow'] = items.filter((a) => known.includes(a));
        break;
      }
      case 'build-contexts':
        convertNamedContexts(list(value) ?? [], out, problems);
        break;
      case 'cgroup-parent':
        out['cgroupParent'] = String(value);
        break;
      case 'shm-size':
        out['shmSize'] = String(value);
        break;
      case 'ulimit':
        out['ulimits'] = list(value);
        break;
      case 'no-cache-filters':
        out['noCacheFilter'] = list(value, true);
        break;
      case 'network':
        if (['default', 'none', 'host'].includes(String(value))) out['network'] = String(value);
        else leftOut(name, `"${String(value)}": the network modes are default, none and host`);
        break;
      case 'provenance': {
        const mode = ({ false: 'false', '0': 'false', true: 'min', '1': 'min', 'mode=min': 'min', 'mode=max': 'max' } as Record<string, string>)[String(value)];
        if (mode) out['provenance'] = mode;
        else leftOut(name, `"${String(value)}": only false, true, mode=min and mode=max are taken`);
        break;
      }
      case 'annotations':
        out['annotations'] = list(value);
        break;
      case 'quiet':
        if (value === true || value === 'true') out['progress'] = 'quiet';
        break;
      case 'engine':
        if (value === 'docker') notes.push('"engine": docker: nx-buildkit talks to BuildKit itself (a Docker engine or a buildkitd); no docker CLI is run');
        else leftOut(name, `${String(value)}: nx-buildkit builds with BuildKit only`);
        break;
      case 'builder':
        leftOut(name, `"${String(value)}" names a buildx builder instance; set nx-buildkit's "builder" to its address (unix://, tcp://, docker://) instead`);
        break;
      case 'metadata':
        if (fromMetadata) convertMetadata(metadata!, out, problems, notes);
        else leftOut(name, 'nx-container uses metadata only when it lists images');
        break;
      default:
        leftOut(name, 'nx-buildkit has no such option');
    }
  }
  for (const [field, ref] of environmentReferences(out)) {
    problems.push(`"${field}" holds ${ref}, which nx-container replaced from the environment; nx-buildkit takes the value as written`);
  }
  return { options: out, problems, notes };
}

/** metadata.images, tags, flavor, labels and annotations (docker/metadata-action inputs). */
function convertMetadata(metadata: Record<string, unknown>, out: Record<string, unknown>, problems: string[], notes: string[]): void {
  const leftOut = (name: string, why: string) => problems.push(`"metadata.${name}" left out: ${why}`);
  const images: string[] = [];
  for (const entry of list(metadata['images']) ?? []) {
    const read = entry.includes('=') ? csvPairs(entry) : { pairs: [{ key: 'name', value: entry }] };
    const attrs = 'pairs' in read ? Object.fromEntries(read.pairs.map((p) => [p.key, p.value])) : {};
    if (!attrs['name'] || (attrs['enable'] !== undefined && attrs['enable'] !== 'true')) leftOut(`images: ${entry}`, 'only image names (enable=true) are taken');
    else images.push(attrs['name']);
  }
  const templates: string[] = [];
  const rules = list(metadata['tags']) ?? defaultTagRules;
  if (metadata['tags'] === undefined) notes.push(`"metadata.tags" not set: metadata-action's default rules (${defaultTagRules.join('; ')}) are converted`);
  for (const rule of rules) {
    const result = tagRuleToTemplate(rule);
    if ('problem' in result) leftOut(`tags: ${rule}`, result.problem);
    else {
      templates.push(result.template);
      if (result.note) notes.push(`"metadata.tags: ${rule}" → ${result.template}: ${result.note}`);
    }
  }
  if (images.length) {
    out['imageName'] = images[0];
    // Further images get every tag as a full reference.
    out['tags'] = [...templates, ...images.slice(1).flatMap((image) => templates.map((t) => `${image}:${t}`))];
    notes.push('"metadata.images": the org.opencontainers.image.* labels now come from git and package.json (plugin/metadata/README.md); values such as title may differ from metadata-action\'s');
  }
  const flavor: Record<string, string> = {};
  for (const entry of list(metadata['flavor']) ?? []) {
    const read = csvPairs(entry);
    const pairs = 'pairs' in read ? read.pairs : [];
    const [first, ...others] = pairs;
    if (!first || !['latest', 'prefix', 'suffix'].includes(first.key) || others.some((o) => !(o.key === 'onlatest' && o.value === 'false'))) {
      leftOut(`flavor: ${entry}`, 'only latest=, prefix= and suffix= (without onlatest=true) are taken');
    } else flavor[first.key] = first.value;
  }
  if (Object.keys(flavor).length) out['tagFlavor'] = flavor;
  if (metadata['labels'] !== undefined) putPairs(out, 'labels', 'metadata.labels', list(metadata['labels']) ?? [], problems);
  if (metadata['annotations'] !== undefined) out['annotations'] = list(metadata['annotations']);
  for (const name of ['sep-tags', 'sep-labels', 'bake-target']) {
    if (metadata[name] !== undefined) notes.push(`"metadata.${name}" dropped: it shapes metadata-action's outputs, which nx-buildkit does not produce (the metadata file lists the tags)`);
  }
  for (const name of Object.keys(metadata).filter((k) => !['images', 'tags', 'flavor', 'labels', 'annotations', 'sep-tags', 'sep-labels', 'bake-target'].includes(k))) {
    leftOut(name, 'nx-buildkit has no such option');
  }
}

/** type=registry/image (push) and type=docker without dest (load) become push/load; the rest must be an export we take. */
function convertOutputs(items: string[], out: Record<string, unknown>, problems: string[], notes: string[]): void {
  const kept: string[] = [];
  for (const item of items) {
    const read = item.includes('=') ? csvPairs(item) : undefined;
    const attrs = read && 'pairs' in read ? Object.fromEntries(read.pairs.map((p) => [p.key, p.value])) : {};
    if ((attrs['type'] === 'registry' || (attrs['type'] === 'image' && attrs['push'] === 'true')) && Object.keys(attrs).every((k) => ['type', 'push', 'name'].includes(k))) {
      out['push'] = true;
      if (attrs['name']) notes.push(`"outputs: ${item}" → push: true; the image is pushed under its tags (name= is not used)`);
    } else if (attrs['type'] === 'docker' && attrs['dest'] === undefined && Object.keys(attrs).length === 1) {
      out['load'] = true;
    } else {
      const checkedItem = checked('outputs', [item], outputFromCsv, problems);
      kept.push(...checkedItem);
    }
  }
  if (kept.length) out['outputs'] = kept;
}

/**
 * `secrets: KEY=value` (the value itself, `$VAR` and `${VAR}` replaced from
 * the environment by nx-container) and `secret-files: KEY=path`.
 */
function convertSecrets(name: string, items: string[], out: Record<string, unknown>, problems: string[]): void {
  const secrets = (out['secrets'] as unknown[] | undefined) ?? [];
  for (const entry of items) {
    const eq = entry.indexOf('=');
    const id = eq > 0 ? entry.slice(0, eq) : '';
    const value = eq > 0 ? entry.slice(eq + 1) : '';
    if (!id || !value) {
      problems.push(`"${name}" entry left out: not KEY=${name === 'secrets' ? 'value' : 'path'}`);
      continue;
    }
    if (name === 'secret-files') {
      secrets.push({ id, file: value });
      continue;
    }
    const variable = /^\$\{?([A-Za-z_]\w*)\}?$/.exec(value)?.[1];
    if (variable) secrets.push({ id, env: variable });
    else {
      // The value never goes into the report: it is a secret.
      secrets.push({ id, env: id });
      problems.push(`"secrets: ${id}=…" holds the secret's value itself; nx-buildkit reads secrets from files or the environment: it now reads the environment variable ${id}, which must be set when building (the value was removed from the options)`);
    }
  }
  out['secrets'] = secrets;
}

/** buildx's `name=value` build contexts as our namedContexts values. */
function convertNamedContexts(items: string[], out: Record<string, unknown>, problems: string[]): void {
  const contexts: Record<string, string> = {};
  for (const entry of items) {
    const eq = entry.indexOf('=');
    const name = entry.slice(0, eq);
    const value = entry.slice(eq + 1);
    if (eq <= 0 || !value) problems.push(`"build-contexts: ${entry}" left out: not name=value`);
    else if (/^(docker-image|oci-layout):\/\//.test(value) || value.startsWith('target:')) contexts[name] = value;
    else if (/^(https?:\/\/|git@)/.test(value)) problems.push(`"build-contexts: ${entry}" left out: a remote context is not supported`);
    else contexts[name] = `local:${value}`;
  }
  out['namedContexts'] = contexts;
}

/** `KEY=value` items into a map option; an item without "=" is reported. */
function putPairs(out: Record<string, unknown>, field: string, name: string, items: string[], problems: string[]): void {
  const map: Record<string, string> = {};
  for (const entry of items) {
    const eq = entry.indexOf('=');
    if (eq > 0) map[entry.slice(0, eq)] = entry.slice(eq + 1);
    else problems.push(`"${name}: ${entry}" left out: without "=value" buildx takes the value from the environment, nx-buildkit does not`);
  }
  out[field] = map;
}

/** The items our buildx-string reader takes; each other one reported. */
function checked(name: string, items: string[], read: (text: string) => FromCsv, problems: string[]): string[] {
  return items.filter((item) => {
    const result = read(item);
    if ('problem' in result) problems.push(`"${name}: ${item}" left out: ${result.problem}`);
    return !('problem' in result);
  });
}

/** nx-container's list inputs: an array, or one string of lines (and commas, where items hold none). */
function list(value: unknown, commas = false): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const items = Array.isArray(value) ? value.map(String) : String(value).split(commas ? /[\n,]/ : /\n/);
  return items.map((s) => s.trim()).filter(Boolean);
}

/** Every `$VAR` / `${VAR}` in a string of the converted options, with where it is. */
function environmentReferences(value: unknown, at = ''): Array<[string, string]> {
  if (typeof value === 'string') return [...value.matchAll(/\$\{?[A-Za-z_]\w*\}?/g)].map((m) => [at, m[0]]);
  if (Array.isArray(value)) return value.flatMap((v, i) => environmentReferences(v, `${at}[${i}]`));
  if (isObject(value)) return Object.entries(value).flatMap(([k, v]) => environmentReferences(v, at ? `${at}.${k}` : k));
  return [];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function joinPath(root: string, file: string): string {
  return root === '.' || root === '' ? file : `${root.replace(/\/$/, '')}/${file}`;
}
