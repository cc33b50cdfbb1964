import { describe, expect, test } from 'bun:test';
import { BuildkitError } from '../../errors';
import { credentialSource } from './credential-source';
import { parseDockerConfig } from './docker-config';
import { hostnameOfConfigKey } from './registry-host';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const parse = (config: unknown) => parseDockerConfig(JSON.stringify(config), '/cfg/config.json');

describe('parseDockerConfig: auths entries', () => {
  const cases: Array<[string, unknown, { username: string; password: string; identityToken: string; registryToken: string }]> = [
    ['auth = base64(user:pass)', { auth: b64('alice:s3cret-pass') }, { username: 'alice', password: 's3cret-pass', identityToken: '', registryToken: '' }],
    ['password containing colons', { auth: b64('bob:a:b:c') }, { username: 'bob', password: 'a:b:c', identityToken: '', registryToken: '' }],
    ['trailing NULs trimmed', { auth: b64('carol:pw\0\0') }, { username: 'carol', password: 'pw', identityToken: '', registryToken: '' }],
    ['username/password fields', { username: 'dave', password: 'pw-dave' }, { username: 'dave', password: 'pw-dave', identityToken: '', registryToken: '' }],
    ['auth wins over the fields', { auth: b64('eve:from-auth'), username: 'x', password: 'y' }, { username: 'eve', password: 'from-auth', identityToken: '', registryToken: '' }],
    ['identitytoken', { identitytoken: 'refresh-token-123' }, { username: '', password: '', identityToken: 'refresh-token-123', registryToken: '' }],
    ['registrytoken', { registrytoken: 'bearer-abc' }, { username: '', password: '', identityToken: '', registryToken: 'bearer-abc' }],
    ['empty entry (Docker Desktop with a store)', {}, { username: '', password: '', identityToken: '', registryToken: '' }],
    ['null entry', null, { username: '', password: '', identityToken: '', registryToken: '' }],
  ];
  for (const [name, entry, expected] of cases) {
    test(name, () => {
      const config = parse({ auths: { 'reg.example:5000': entry } });
      expect(config.auths).toEqual([{ key: 'reg.example:5000', ...expected }]);
    });
  }

  test('credsStore, credHelpers and unrelated fields', () => {
    const config = parse({ credsStore: 'desktop', credHelpers: { 'gcr.io': 'gcloud', 'x.io': '' }, psFormat: 'table', HttpHeaders: { A: 'b' } });
    expect(config.credsStore).toBe('desktop');
    expect([...config.credHelpers]).toEqual([['gcr.io', 'gcloud']]);
    expect(config.auths).toEqual([]);
    expect(config.file).toBe('/cfg/config.json');
  });

  test('an empty file is an empty config', () => {
    expect(parseDockerConfig('  \n', '/cfg/config.json').auths).toEqual([]);
  });
});

describe('parseDockerConfig: malformed files are errors naming the file, never quoting values', () => {
  const cases: Array<[string, string, RegExp]> = [
    ['not JSON', '{"auths": {"r": {"auth": "c2VjcmV0LXZhbHVl"}},,}', /not valid JSON/],
    ['top level array', '[]', /top level is not a JSON object/],
    ['auths not an object', '{"auths": "c2VjcmV0LXZhbHVl"}', /"auths" is not an object/],
    ['entry not an object', '{"auths": {"r": "c2VjcmV0LXZhbHVl"}}', /auths entry "r" is not an object/],
    ['auth not base64', '{"auths": {"r": {"auth": "not base64 at all!"}}}', /"auth" is not valid base64/],
    ['auth without a colon', `{"auths": {"r": {"auth": "${b64('c2VjcmV0LXZhbHVl')}"}}}`, /does not decode to "username:password"/],
    ['auth with an empty user', `{"auths": {"r": {"auth": "${b64(':c2VjcmV0LXZhbHVl')}"}}}`, /does not decode/],
    ['password not a string', '{"auths": {"r": {"password": 42}}}', /"password" is not a string/],
    ['credsStore not a string', '{"credsStore": 1}', /"credsStore" is not a string/],
    ['helper name with a path', '{"credHelpers": {"r": "../../bin/sh"}}', /not a valid credential helper name/],
  ];
  for (const [name, text, message] of cases) {
    test(name, () => {
      let error: unknown;
      try {
        parseDockerConfig(text, '/cfg/config.json');
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(BuildkitError);
      expect((error as BuildkitError).code).toBe('invalid-argument');
      expect((error as BuildkitError).message).toContain('/cfg/config.json');
      expect((error as BuildkitError).message).toMatch(message);
      expect((error as BuildkitError).message).not.toContain('c2VjcmV0LXZhbHVl');
      expect((error as BuildkitError).message).not.toContain('secret-value');
    });
  }

  test('a JSON syntax error reports where it is, without quoting the text', () => {
    const text = '{\n  "auths": {\n    "r": {"auth": "c2VjcmV0LXZhbHVl"} oops\n  }\n}';
    let message = '';
    try {
      parseDockerConfig(text, '/cfg/config.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toContain('not valid JSON');
    expect(message).not.toContain('oops');
    expect(message).not.toContain('c2VjcmV0LXZhbHVl');
  });
});

test('a missing value says which character was unexpected (engines give no position for it), and nothing else of the text', () => {
  const text = '{"auths": {"r": {"auth": }}, "x": "c2VjcmV0LXZhbHVl"}';
  const message = (() => {
    try {
      parseDockerConfig(text, '/cfg/config.json');
    } catch (err) {
      return (err as Error).message;
    }
    return '';
  })();
  expect(message).toMatch(/^invalid Docker config \/cfg\/config\.json: not valid JSON \((unexpected "\}"|line 1, column \d+)\)$/);
  expect(message).not.toContain('c2VjcmV0LXZhbHVl');
});

describe('host key normalisation', () => {
  const cases: Array<[string, string]> = [
    ['https://index.docker.io/v1/', 'index.docker.io'],
    ['https://reg.example:5000/v1/', 'reg.example:5000'],
    ['http://reg.example', 'reg.example'],
    ['reg.example', 'reg.example'],
    ['reg.example:5000', 'reg.example:5000'],
    ['reg.example:5000/some/path', 'reg.example:5000'],
    ['https://user@reg.example:443/v2/', 'reg.example:443'],
    ['https://[::1]:5000/', '[::1]:5000'],
    ['https://[::1]/', '::1'],
  ];
  for (const [key, host] of cases) test(`${key} → ${host}`, () => expect(hostnameOfConfigKey(key)).toBe(host));
});

describe('credentialSource: which entry or helper serves a host', () => {
  const entryKey = (config: unknown, host: string) => {
    const source = credentialSource(parse(config), host);
    return source.kind === 'entry' ? `entry ${source.entry.key}` : source.kind === 'helper' ? `helper ${source.helper} ${source.serverUrl}` : 'none';
  };
  const auth = { auth: b64('u:p') };
  const cases: Array<[string, unknown, string, string]> = [
    ['exact host:port key', { auths: { '127.0.0.1:5001': auth } }, '127.0.0.1:5001', 'entry 127.0.0.1:5001'],
    ['https://host/v1/ key', { auths: { 'https://127.0.0.1:5001/v1/': auth } }, '127.0.0.1:5001', 'entry https://127.0.0.1:5001/v1/'],
    ['http://host key', { auths: { 'http://reg.example': auth } }, 'reg.example', 'entry http://reg.example'],
    ['bare host key', { auths: { 'reg.example': auth } }, 'reg.example', 'entry reg.example'],
    ['exact key preferred over a normalised one', { auths: { 'https://reg.example/v1/': auth, 'reg.example': auth } }, 'reg.example', 'entry reg.example'],
    ['port must match', { auths: { 'reg.example:5000': auth } }, 'reg.example', 'none'],
    ['other hosts do not match', { auths: { 'a.example': auth } }, 'b.example', 'none'],
    ['Docker Hub by its legacy key', { auths: { 'https://index.docker.io/v1/': auth } }, 'registry-1.docker.io', 'entry https://index.docker.io/v1/'],
    ['Docker Hub by docker.io', { auths: { 'docker.io': auth } }, 'registry-1.docker.io', 'entry docker.io'],
    ['credsStore for everything', { credsStore: 'pass', auths: { 'reg.example': auth } }, 'reg.example', 'helper pass reg.example'],
    ['credsStore asked with the hub key', { credsStore: 'pass' }, 'registry-1.docker.io', 'helper pass https://index.docker.io/v1/'],
    ['per-host helper wins over credsStore', { credsStore: 'pass', credHelpers: { 'reg.example': 'ecr-login' } }, 'reg.example', 'helper ecr-login reg.example'],
    ['per-host helper by a URL key', { credHelpers: { 'https://reg.example': 'gcloud' }, auths: { 'reg.example': auth } }, 'reg.example', 'helper gcloud reg.example'],
    ['per-host helper only for its host', { credHelpers: { 'gcr.io': 'gcloud' }, auths: { 'reg.example': auth } }, 'reg.example', 'entry reg.example'],
    ['nothing configured', {}, 'reg.example', 'none'],
  ];
  for (const [name, config, host, expected] of cases) test(name, () => expect(entryKey(config, host)).toBe(expected));
});
