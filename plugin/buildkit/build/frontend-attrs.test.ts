import { describe, expect, test } from 'bun:test';
import type { BuildSpec } from './build-spec';
import { dockerfileFrontendAttrs } from './frontend-attrs';

const attrs = (rest: Partial<BuildSpec>) =>
  dockerfileFrontendAttrs({ name: 'web', contextDir: '/ws/web', dockerfile: '/ws/web/Dockerfile', ...rest }, { named: {}, ociLayouts: {} });

describe('dockerfileFrontendAttrs: attestations', () => {
  test('provenance and sbom become attest:provenance and attest:sbom as buildx sends them', () => {
    expect(attrs({ provenance: 'max', sbom: {} })).toMatchObject({ 'attest:provenance': 'mode=max', 'attest:sbom': '' });
    expect(attrs({ sbom: { generator: '127.0.0.1:5000/scan/gen:1' } })['attest:sbom']).toBe('generator=127.0.0.1:5000/scan/gen:1');
  });

  test('no attestation asked for: no attest: attribute', () => {
    expect(Object.keys(attrs({})).filter((k) => k.startsWith('attest:'))).toEqual([]);
  });
});
