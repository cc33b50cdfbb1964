import { BuildkitError } from '../../errors';

/** One `auths` entry of a Docker config file, decoded. */
export interface RegistryAuthEntry {
  /** The key as written in the file (`host:port`, `https://index.docker.io/v1/`, …). */
  key: string;
  username: string;
  password: string;
  /** OAuth refresh token (`identitytoken`): sent as the secret with an empty username. */
  identityToken: string;
  /** Static bearer token (`registrytoken`): handed out through the token-authority calls. */
  registryToken: string;
}

/** The registry-credential part of a Docker config file (`config.json`). */
export interface DockerConfig {
  /** Where it was read from, for messages; undefined when no file existed. */
  file: string | undefined;
  /** `auths` entries in file order. */
  auths: readonly RegistryAuthEntry[];
  /** `credsStore`: the helper for every registry without its own. */
  credsStore: string | undefined;
  /** `credHelpers`: config key → helper name (`docker-credential-<name>`). */
  credHelpers: ReadonlyMap<string, string>;
}

/** A config with no credentials at all: every registry is anonymous. */
export const emptyDockerConfig: DockerConfig = { file: undefined, auths: [], credsStore: undefined, credHelpers: new Map() };

/**
 * Parse the text of a Docker config file. Only the credential fields are
 * read (`auths`, `credsStore`, `credHelpers`); everything else in the file is
 * ignored. A file that cannot be understood is an error naming `file`, never
 * a silent "no credentials" (docker/cli refuses such files too). Messages
 * never quote values from the file: they are credentials.
 */
export function parseDockerConfig(text: string, file: string): DockerConfig {
  const bad = (what: string) => new BuildkitError('invalid-argument', `invalid Docker config ${file}: ${what}`);
  const root = parseJson(text, bad);
  if (!isObject(root)) throw bad('the top level is not a JSON object');

  const auths: RegistryAuthEntry[] = [];
  const rawAuths = root['auths'];
  if (rawAuths !== undefined && rawAuths !== null) {
    if (!isObject(rawAuths)) throw bad('"auths" is not an object');
    for (const [key, value] of Object.entries(rawAuths)) auths.push(parseEntry(key, value, bad));
  }

  const rawStore = root['credsStore'];
  if (rawStore !== undefined && typeof rawStore !== 'string') throw bad('"credsStore" is not a string');
  const credsStore = rawStore ? checkHelperName(rawStore, '"credsStore"', bad) : undefined;

  const credHelpers = new Map<string, string>();
  const rawHelpers = root['credHelpers'];
  if (rawHelpers !== undefined && rawHelpers !== null) {
    if (!isObject(rawHelpers)) throw bad('"credHelpers" is not an object');
    for (const [key, value] of Object.entries(rawHelpers)) {
      if (typeof value !== 'string') throw bad(`credHelpers entry "${key}" is not a string`);
      if (value !== '') credHelpers.set(key, checkHelperName(value, `credHelpers entry "${key}"`, bad));
    }
  }
  return { file, auths, credsStore, credHelpers };
}

type Bad = (what: string) => BuildkitError;

function parseEntry(key: string, value: unknown, bad: Bad): RegistryAuthEntry {
  if (value === null) value = {};
  if (!isObject(value)) throw bad(`auths entry "${key}" is not an object`);
  const field = (name: string): string => {
    const v = value[name];
    if (v === undefined || v === null) return '';
    if (typeof v !== 'string') throw bad(`auths entry "${key}": "${name}" is not a string`);
    return v;
  };
  let username = field('username');
  let password = field('password');
  const auth = field('auth');
  // As in docker/cli, an `auth` string wins over separate username/password fields.
  if (auth !== '') ({ username, password } = decodeAuth(auth, key, bad));
  return { key, username, password, identityToken: field('identitytoken'), registryToken: field('registrytoken') };
}

/** `auth` is base64("user:password"); the user must not be empty (docker/cli rejects that too). */
function decodeAuth(auth: string, key: string, bad: Bad): { username: string; password: string } {
  // Buffer's base64 decoder skips invalid characters silently; check the alphabet first.
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(auth) || auth.length % 4 === 1) throw bad(`auths entry "${key}": "auth" is not valid base64`);
  const decoded = Buffer.from(auth, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) throw bad(`auths entry "${key}": "auth" does not decode to "username:password"`);
  // Trailing NULs come from some old encoders; docker/cli trims them too.
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1).replace(/^\0+|\0+$/g, '') };
}

/** Helper names become part of an executable name: no path separators, nothing empty. */
function checkHelperName(name: string, where: string, bad: Bad): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) throw bad(`${where}: "${name}" is not a valid credential helper name`);
  return name;
}

function parseJson(text: string, bad: Bad): unknown {
  // docker/cli treats an empty file as an empty config.
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    // Engines quote the offending text in their messages; keep only the
    // position, else the one unexpected character (Node 20 and Bun give no
    // position for an unexpected token), never the surrounding text.
    const message = String((err as Error).message);
    const position = /position (\d+)/.exec(message);
    const token = /Unexpected token '(.)'/.exec(message);
    throw bad(`not valid JSON${position ? ` (${lineAndColumn(text, Number(position[1]))})` : token ? ` (unexpected "${token[1]}")` : ''}`);
  }
}

function lineAndColumn(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `line ${before.length}, column ${before[before.length - 1]!.length + 1}`;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
