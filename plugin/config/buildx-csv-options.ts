import { csvFields, csvPairs, type CsvPair } from './buildx-csv';

/**
 * buildx's string forms of `cacheFrom`/`cacheTo`, `outputs`, `secrets` and
 * `ssh`, turned into the object forms our options take (users copy them from
 * buildx and bake docs). Only forms with one meaning are read; each reader
 * returns the object for the option's own schema to check, or the problem
 * naming the key that is wrong.
 */
export type FromCsv = { value: Record<string, unknown> } | { problem: string };

/** `type=registry,ref=…,mode=max`, `type=local,src=…`, or a bare image reference (registry cache). */
export function cacheEntryFromCsv(text: string): FromCsv {
  if (!text.includes('=')) {
    const read = csvFields(text);
    if ('problem' in read) return read;
    if (read.fields.length !== 1) return { problem: 'several cache references in one entry: give each its own list item' };
    return { value: { type: 'registry', attrs: { ref: read.fields[0] } } };
  }
  const read = readPairs(text);
  if ('problem' in read) return read;
  const { type, ...attrs } = read.map;
  if (type === undefined) return { problem: 'no "type" key (e.g. type=registry,ref=…)' };
  return { value: { type, attrs } };
}

const outputKeys: Record<string, readonly string[]> = { local: ['dest'], tar: ['dest'], docker: ['dest'], oci: ['dest', 'tar'], cacheonly: [] };

/** `type=local,dest=…`, `type=oci,dest=…,tar=false`, `type=cacheonly`, or a bare directory (a local export, as buildx's `-o dir`). */
export function outputFromCsv(text: string): FromCsv {
  if (!text.includes('=')) {
    if (text === '-') return { problem: 'an export to standard output ("-") is not supported: give type=tar,dest=<file>' };
    return { value: { type: 'local', dest: text } };
  }
  const read = readPairs(text);
  if ('problem' in read) return read;
  const { type, ...rest } = read.map;
  if (type === undefined) return { problem: 'no "type" key (e.g. type=local,dest=…)' };
  if (type === 'image' || type === 'registry') return { problem: `type=${type}: set "push": true (the image is named by imageName and tags) instead` };
  const known = outputKeys[type];
  if (!known) return { problem: `unknown output type "${type}" (known: ${Object.keys(outputKeys).join(', ')})` };
  const unknown = Object.keys(rest).find((k) => !known.includes(k));
  if (unknown) return { problem: `unknown key "${unknown}" for type=${type}${known.length ? ` (known: ${known.join(', ')})` : ''}` };
  if (rest['tar'] !== undefined) {
    if (rest['tar'] !== 'true' && rest['tar'] !== 'false') return { problem: `key "tar" must be true or false, not "${rest['tar']}"` };
    return { value: { type, ...rest, tar: rest['tar'] === 'true' } };
  }
  return { value: { type, ...rest } };
}

/** `id=npm,src=…` (or `source=`), `id=token,env=TOKEN`, and buildx's `type=file|env`. */
export function secretFromCsv(text: string): FromCsv {
  const read = readPairs(text);
  if ('problem' in read) return read;
  const { id, src, source, env, type, ...rest } = read.map;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) return { problem: `unknown key "${unknown}" (known: id, src, source, env, type)` };
  if (type !== undefined && type !== 'file' && type !== 'env') return { problem: `key "type" must be file or env, not "${type}"` };
  if (src !== undefined && source !== undefined) return { problem: 'both "src" and "source" given' };
  if (id === undefined) return { problem: 'no "id" key (e.g. id=npm,src=.npmrc)' };
  const from = src ?? source;
  // buildx: with type=env, src names the variable.
  if (type === 'env' && env === undefined && from !== undefined) return { value: { id, env: from } };
  return { value: { id, ...(from !== undefined ? { file: from } : {}), ...(env !== undefined ? { env } : {}) } };
}

/** buildx's `--ssh` form: `default`, `<id>`, or `<id>=<socket or key>[,<key>…]`. */
export function sshFromCsv(text: string): FromCsv {
  const eq = text.indexOf('=');
  const id = eq < 0 ? text : text.slice(0, eq);
  if (id === '') return { problem: 'no id before "=" (e.g. default=$SSH_AUTH_SOCK)' };
  if (eq < 0) return { value: { id } };
  const paths = text.slice(eq + 1).split(',');
  if (paths.some((p) => p === '')) return { problem: 'an empty path after "=" or between commas' };
  return { value: { id, paths } };
}

/** The fields as a map, refusing a key given twice (buildx silently keeps the last). */
function readPairs(text: string): { map: Record<string, string> } | { problem: string } {
  const read = csvPairs(text);
  if ('problem' in read) return read;
  const map: Record<string, string> = Object.create(null);
  for (const { key, value } of read.pairs as CsvPair[]) {
    if (Object.hasOwn(map, key)) return { problem: `key "${key}" given twice` };
    map[key] = value;
  }
  return { map };
}
