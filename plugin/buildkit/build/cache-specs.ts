import { BuildkitError } from '../errors';
import type { BuildSpec, CacheSpec } from './build-spec';

/** Which way a cache entry goes: `cacheFrom` imports, `cacheTo` exports. */
type Direction = 'import' | 'export';

interface CacheTypeRules {
  /** Attributes the entry must carry, per direction. */
  required: Record<Direction, readonly string[]>;
  /** Why the type cannot be used in a direction, if it cannot. */
  unsupported?: Partial<Record<Direction, string>>;
}

/**
 * What each cache backend needs (protocol doc §7.2). The daemon would also
 * reject most of these, but only after the session is open and the build has
 * started, and some of its messages name no entry; checking here fails in
 * microseconds and says which entry is wrong.
 *
 * Values the daemon could take from its OWN environment (`AWS_REGION`,
 * `BUILDKIT_AZURE_STORAGE_ACCOUNT_URL`, GitHub's `ACTIONS_*`) are required
 * as attributes: a client cannot see the daemon's environment, and buildx
 * too copies the GitHub variables into `url`/`token` itself.
 */
const rules: Record<CacheSpec['type'], CacheTypeRules> = {
  registry: { required: { import: ['ref'], export: ['ref'] } },
  // `digest` of an import is resolved from <src>/index.json by buildImage.
  local: { required: { import: ['src'], export: ['dest'] } },
  inline: {
    required: { import: [], export: [] },
    unsupported: { import: 'inline cache is imported with type "registry" and the image reference as "ref"' },
  },
  gha: { required: { import: ['url', 'token'], export: ['url', 'token'] } },
  s3: { required: { import: ['bucket', 'region'], export: ['bucket', 'region'] } },
  // BuildKit derives the account name from `account_url`; `name` only names the cache manifests.
  azblob: { required: { import: ['account_url'], export: ['account_url'] } },
};

const exportModes = ['min', 'max'];

/**
 * Check every `cacheFrom` / `cacheTo` entry of a spec: a known type usable in
 * that direction, its required attributes present and non-empty, and an
 * export `mode` of `min` or `max`. Throws an `invalid-argument` BuildkitError
 * naming the entry (`cacheTo[1]`) and the attribute; values are otherwise
 * passed on unchanged. Pure and synchronous: nothing is contacted.
 */
export function validateCacheSpecs(spec: Pick<BuildSpec, 'cacheFrom' | 'cacheTo'>): void {
  (spec.cacheFrom ?? []).forEach((entry, i) => validateEntry(entry, 'import', `cacheFrom[${i}]`));
  (spec.cacheTo ?? []).forEach((entry, i) => validateEntry(entry, 'export', `cacheTo[${i}]`));
}

function validateEntry(entry: CacheSpec, direction: Direction, where: string): void {
  const typeRules = Object.hasOwn(rules, entry?.type ?? '') ? rules[entry.type] : undefined;
  if (!typeRules) {
    throw invalid(`${where}: unknown cache type ${JSON.stringify(entry?.type)} (expected one of ${Object.keys(rules).join(', ')})`);
  }
  const label = `${where} (type=${entry.type})`;
  const why = typeRules.unsupported?.[direction];
  if (why) throw invalid(`${label}: "${entry.type}" cannot be used to ${direction} cache; ${why}`);
  const attrs = entry.attrs ?? {};
  const has = (name: string) => typeof attrs[name] === 'string' && attrs[name] !== '';
  for (const need of typeRules.required[direction]) {
    if (!has(need)) throw invalid(`${label}: missing attribute "${need}"`);
  }
  const mode = attrs.mode;
  if (direction === 'export' && mode !== undefined && !exportModes.includes(mode)) {
    throw invalid(`${label}: attribute "mode" must be "min" or "max", not ${JSON.stringify(mode)}`);
  }
}

function invalid(message: string): BuildkitError {
  return new BuildkitError('invalid-argument', message);
}
