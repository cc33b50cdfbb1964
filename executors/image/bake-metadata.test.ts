import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerSecret, type BuildResult } from '../../plugin/buildkit/index';
import { bakeMetadata, decodeExporterResponse, writeBakeMetadata } from './bake-metadata';

const descriptor = { mediaType: 'application/vnd.oci.image.manifest.v1+json', digest: 'sha256:' + 'a'.repeat(64), size: 506 };
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64');

function result(over: Partial<BuildResult> = {}): BuildResult {
  return {
    digest: descriptor.digest,
    configDigest: 'sha256:' + 'c'.repeat(64),
    imageNames: ['docker.io/library/api:latest'],
    exporterResponse: {
      'containerimage.digest': descriptor.digest,
      'containerimage.config.digest': 'sha256:' + 'c'.repeat(64),
      'containerimage.descriptor': b64(descriptor),
      'image.name': 'docker.io/library/api:latest',
    },
    warnings: [],
    steps: { total: 3, cached: 1 },
    transfer: { diffCopyCalls: 0, filesSent: 0, bytesSent: 0 } as BuildResult['transfer'],
    ref: 'k2q5d7n4b1x9p3m8r6t0v2y4z',
    ...over,
  };
}

describe('decodeExporterResponse', () => {
  test('base64 JSON objects are decoded, everything else stays a string', () => {
    expect(decodeExporterResponse({
      'containerimage.descriptor': b64(descriptor),
      'containerimage.digest': descriptor.digest,
      // Base64 of text that is not a JSON object: kept as the string.
      odd: Buffer.from('"just a string"').toString('base64'),
      empty: b64({}),
      list: b64([{ a: 1 }]),
      'result.json': '{"x":1}',
    })).toEqual({
      'containerimage.descriptor': descriptor,
      'containerimage.digest': descriptor.digest,
      odd: Buffer.from('"just a string"').toString('base64'),
      empty: b64({}),
      list: [{ a: 1 }],
      'result.json': { x: 1 },
    });
  });
});

describe('bakeMetadata', () => {
  test('keyed by project, buildx keys per target, warnings at the top level as Go encodes them', () => {
    const warn = { vertex: 'sha256:v', level: 1, short: 'FromAsCasing: mixed case', detail: ['line one'], url: 'https://docs.docker.com/go/x' };
    const md = bakeMetadata([
      { project: 'api', result: result({ warnings: [warn] }), imageNames: ['docker.io/library/api:latest'] },
      { project: 'web', result: result({ exporterResponse: {}, digest: undefined, configDigest: undefined, ref: undefined }), imageNames: ['web:1'] },
    ]);
    expect(md).toEqual({
      api: {
        'containerimage.digest': descriptor.digest,
        'containerimage.config.digest': 'sha256:' + 'c'.repeat(64),
        'containerimage.descriptor': descriptor,
        'image.name': 'docker.io/library/api:latest',
        'buildx.build.ref': 'nx-buildkit/nx-buildkit0/k2q5d7n4b1x9p3m8r6t0v2y4z',
      },
      web: { 'image.name': 'web:1' },
      'buildx.build.warnings': [{ vertex: 'sha256:v', level: 1, short: Buffer.from(warn.short).toString('base64'), detail: [Buffer.from('line one').toString('base64')], url: warn.url }],
    });
  });

  test('the file is written whole, redacted, without leftovers', async () => {
    const secret = `bake-${randomBytes(8).toString('hex')}`;
    registerSecret(secret);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bake-md-'));
    const file = path.join(dir, 'out', 'bake.json');
    await writeBakeMetadata(file, [{ project: 'api', result: result({ exporterResponse: { 'image.name': `x-${secret}` } }), imageNames: [] }]);
    const text = fs.readFileSync(file, 'utf8');
    expect(text).not.toContain(secret);
    expect(JSON.parse(text).api['image.name']).toBe('x-<redacted>');
    expect(fs.readdirSync(path.dirname(file))).toEqual(['bake.json']);
    fs.rmSync(dir, { recursive: true });
  });
});
