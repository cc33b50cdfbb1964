import { expect, test } from 'bun:test';
import { parseWwwAuthenticate } from './www-authenticate';

test('a Bearer challenge with quoted parameters, commas inside a quoted scope', () => {
  expect(parseWwwAuthenticate('Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull,push"')).toEqual([
    { scheme: 'bearer', params: { realm: 'https://auth.example/token', service: 'registry.example', scope: 'repository:a/b:pull,push' } },
  ]);
});

test('a Basic challenge, and several challenges in one header', () => {
  expect(parseWwwAuthenticate('Basic realm="Registry Realm"')).toEqual([{ scheme: 'basic', params: { realm: 'Registry Realm' } }]);
  expect(parseWwwAuthenticate('Basic realm=x, Bearer realm="https://t/", error="invalid_token"')).toEqual([
    { scheme: 'basic', params: { realm: 'x' } },
    { scheme: 'bearer', params: { realm: 'https://t/', error: 'invalid_token' } },
  ]);
});

test('escaped quotes, odd spacing, empty header', () => {
  expect(parseWwwAuthenticate('bearer  realm = "a\\"b" ')).toEqual([{ scheme: 'bearer', params: { realm: 'a"b' } }]);
  expect(parseWwwAuthenticate('')).toEqual([]);
});
