/**
 * Our name for an option spelled as nx-container (`@nx-tools/nx-container`
 * inputs), buildx (flags) or bake (target attributes) spell it, or in another
 * case or word separator (`no-cache`, `NoCache`). Users copy options from
 * those tools' docs; an "unknown option" alone would send them to our source.
 */
const otherSpellings: Record<string, string> = {
  'build-arg': 'buildArgs',
  'build-args': 'buildArgs',
  args: 'buildArgs',
  'cache-from': 'cacheFrom',
  'cache-to': 'cacheTo',
  file: 'dockerfile',
  'build-context': 'namedContexts',
  'build-contexts': 'namedContexts',
  contexts: 'namedContexts',
  secret: 'secrets',
  'secret-files': 'secrets',
  'secret-envs': 'secrets',
  'add-host': 'extraHosts',
  'add-hosts': 'extraHosts',
  'extra-hosts': 'extraHosts',
  platform: 'platforms',
  output: 'outputs',
  tag: 'tags',
  label: 'labels',
  'no-cache': 'noCache',
  'metadata-file': 'metadataFile',
  images: 'imageName',
};

/** The option `key` probably meant, among `known`; undefined when there is no likely one. */
export function didYouMean(key: string, known: readonly string[]): string | undefined {
  const squash = (s: string) => s.toLowerCase().replace(/[^a-z0-9]/g, '');
  const alias = otherSpellings[key.toLowerCase().replace(/_/g, '-')];
  if (alias && known.includes(alias)) return alias;
  return known.find((k) => squash(k) === squash(key));
}

/**
 * Shown after a list option given as one string (nx-container's newline- or
 * comma-separated inputs): the list it probably meant. `commas: false` for
 * options whose items are buildx strings, which hold commas themselves.
 */
export function asListHint(value: unknown, { commas = true }: { commas?: boolean } = {}): string | undefined {
  if (typeof value !== 'string') return undefined;
  const items = value.split(commas ? /[\n,]/ : /\n/).map((s) => s.trim()).filter(Boolean);
  return items.length ? `a list, e.g. ${JSON.stringify(items)}` : undefined;
}
