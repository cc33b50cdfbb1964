import { describe, expect, test } from 'bun:test';
import { parseNamedContextValue } from './named-context-value';

describe('parseNamedContextValue', () => {
  test('each form, by its prefix', () => {
    expect(parseNamedContextValue('docker-image://alpine:3')).toEqual({ kind: 'image', ref: 'alpine:3' });
    expect(parseNamedContextValue('target:base')).toEqual({ kind: 'target', task: 'base' });
    expect(parseNamedContextValue('target:base:image')).toEqual({ kind: 'target', task: 'base:image' });
    expect(parseNamedContextValue('local:libs/ui')).toEqual({ kind: 'local', path: 'libs/ui' });
    expect(parseNamedContextValue('oci-layout://out/layout:v1.2')).toEqual({ kind: 'oci-layout', path: 'out/layout', tag: 'v1.2' });
    expect(parseNamedContextValue('oci-layout:///abs/layout')).toEqual({ kind: 'oci-layout', path: '/abs/layout' });
  });
  test('anything else is not a named context', () => {
    expect(parseNamedContextValue('tarball:x')).toBeUndefined();
    expect(parseNamedContextValue('alpine')).toBeUndefined();
  });
});
