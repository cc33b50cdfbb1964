import { describe, expect, test } from 'bun:test';
import { namedContextKey } from './named-context-key';

describe('named context key', () => {
  test("every spelling of one image gives the frontend's familiar form", () => {
    for (const ref of ['base', 'base:latest', 'docker.io/library/base', 'docker.io/library/base:latest', 'index.docker.io/library/base']) {
      expect(namedContextKey(ref)).toBe('base');
    }
    expect(namedContextKey('org/app:1.2')).toBe('org/app:1.2');
    expect(namedContextKey('docker.io/org/app')).toBe('org/app');
    expect(namedContextKey('127.0.0.1:5000/app:latest')).toBe('127.0.0.1:5000/app');
    expect(namedContextKey('registry.example/team/app:v1')).toBe('registry.example/team/app:v1');
  });

  test('no key for digests and invalid references', () => {
    expect(namedContextKey(`base@sha256:${'a'.repeat(64)}`)).toBeUndefined();
    expect(namedContextKey('Bad Name')).toBeUndefined();
  });
});
