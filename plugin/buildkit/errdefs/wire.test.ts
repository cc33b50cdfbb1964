import { describe, expect, test } from 'bun:test';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { messageType } from '../protocol/root';
import { BuildkitError, describeError, GrpcStatus } from '../errors';
import { sourceExcerpt } from './source-excerpt';
import { decodeStatusDetails } from './wire';

/** `grpc-status-details-bin` trailers captured from real daemons' answers to a failed Solve. */
const captured = (name: string) => Buffer.from(readFileSync(path.join(import.meta.dir, 'testdata', `${name}.b64`), 'utf8').trim(), 'base64');

/** A grpc-js status error as a failed call rejects with, carrying the captured trailer. */
function grpcError(details: string, trailer: Uint8Array) {
  const metadata = { get: (key: string) => (key === 'grpc-status-details-bin' ? [Buffer.from(trailer)] : []) };
  return Object.assign(new Error(`2 UNKNOWN: ${details}`), { code: GrpcStatus.UNKNOWN, details, metadata });
}

describe('decodeStatusDetails, real daemon trailers', () => {
  for (const daemon of ['docker-28', 'docker-26']) {
    test(`a Dockerfile syntax error from ${daemon} carries the Dockerfile and the failing line`, () => {
      const details = decodeStatusDetails(captured(`parse-error-${daemon}`))!;
      expect(details.sources).toHaveLength(1);
      const [source] = details.sources;
      expect(source!.filename).toBe('Dockerfile');
      expect(source!.language).toBe('Dockerfile');
      expect(source!.text).toBe('FROM scratch\nCOPY a /a\nFORM nothing\nCOPY b /b\n');
      expect(source!.ranges).toEqual([{ start: 3, end: 3 }]);
      expect(details.vertex).toBeUndefined();
      // BuildKit 0.13 (Docker 26) does not name the frontend yet; 0.25 does.
      if (daemon === 'docker-28') expect(details.frontend).toBe('dockerfile.v0');
    });
  }

  test('a failed COPY on buildkitd names the vertex and the COPY line', () => {
    const details = decodeStatusDetails(captured('copy-missing-buildkitd'))!;
    expect(details.vertex).toBe('sha256:75e3ed926ec231ee5097d4c099f0e570b8ea2c3603c210990b9af599bb915dc1');
    expect(details.sources.map((s) => [s.filename, s.ranges])).toEqual([['Dockerfile', [{ start: 3, end: 3 }]]]);
    expect(details.sources[0]!.text.split('\n')[2]).toBe('COPY missing /b');
  });

  test('binary errdefs details (protobuf Any, no +json) decode through the generated types', () => {
    const source = messageType('errdefs.Source');
    const vertex = messageType('errdefs.Vertex');
    const status = messageType('google.rpc.Status');
    const bytes = status.encode(status.fromObject({
      code: 2,
      message: 'x',
      details: [
        { type_url: 'type.googleapis.com/moby.buildkit.v1.errdefs.Vertex', value: vertex.encode(vertex.fromObject({ digest: 'sha256:abc' })).finish() },
        {
          type_url: 'type.googleapis.com/errdefs.Source',
          value: source.encode(source.fromObject({ info: { filename: 'a.Dockerfile', data: Buffer.from('FROM x\nRUNN y\n') }, ranges: [{ start: { line: 2 }, end: { line: 2, character: 4 } }] })).finish(),
        },
        { type_url: 'github.com/moby/buildkit/stack.Stack+json', value: Buffer.from('{"frames":[]}') },
      ],
    })).finish();
    expect(decodeStatusDetails(bytes)).toEqual({ vertex: 'sha256:abc', sources: [{ filename: 'a.Dockerfile', text: 'FROM x\nRUNN y\n', ranges: [{ start: 2, end: 2 }] }] });
  });

  test('bytes that are not a status, or a status with only stack traces, give nothing', () => {
    expect(decodeStatusDetails(new Uint8Array([0xff, 0xff, 0xff]))).toBeUndefined();
    const status = messageType('google.rpc.Status');
    const onlyStack = status.encode(status.fromObject({ code: 2, details: [{ type_url: 'github.com/moby/buildkit/stack.Stack+json', value: Buffer.from('{}') }] })).finish();
    expect(decodeStatusDetails(onlyStack)).toBeUndefined();
  });
});

describe('BuildkitError keeps the parts of a daemon failure', () => {
  const said = 'dockerfile parse error on line 3: unknown instruction: FORM (did you mean FROM?)';

  test('the gRPC boundary decodes the trailer; the message is composed where printed', () => {
    const error = BuildkitError.from(grpcError(said, captured('parse-error-docker-28')), 'solve').forTarget('api');
    expect(error.message).toBe(`solve: ${said}`);
    expect(error.rawMessage).toBe(said);
    expect(error.target).toBe('api');
    expect(error.code).toBe('unknown');
    expect(error.details?.sources[0]?.filename).toBe('Dockerfile');
    expect(describeError(error, { withTarget: true })).toBe(
      [
        `api: solve: ${said}`,
        'Dockerfile:3',
        '--------------------',
        '   1 |     FROM scratch',
        '   2 |     COPY a /a',
        '   3 | >>> FORM nothing',
        '   4 |     COPY b /b',
        '--------------------',
      ].join('\n'),
    );
  });

  test('wrappers keep target and details; a status without a trailer (Docker 20.10) prints only the message', () => {
    const inner = BuildkitError.from(grpcError(said, captured('parse-error-docker-26'))).forTarget('web');
    const wrapped = new BuildkitError('failed-precondition', `explained: ${inner.message}`, { cause: inner });
    expect(wrapped.target).toBe('web');
    expect(wrapped.details).toBe(inner.details!);
    const bare = BuildkitError.from(Object.assign(new Error('2 UNKNOWN: x'), { code: 2, details: 'failed to create LLB definition: dockerfile parse error line 3: unknown instruction: FORM' }));
    expect(bare.details).toBeUndefined();
    expect(describeError(bare)).toBe('failed to create LLB definition: dockerfile parse error line 3: unknown instruction: FORM');
  });
});

describe('sourceExcerpt', () => {
  const text = ['FROM a', 'RUN b', 'RUN c', 'RUN d', 'RUN e', 'RUN f', 'RUN g'].join('\n');

  test('a multi-line range gets one line of context each side', () => {
    expect(sourceExcerpt({ filename: 'Dockerfile', text, ranges: [{ start: 3, end: 4 }] })).toBe(
      ['Dockerfile:3', '-'.repeat(20), '   2 |     RUN b', '   3 | >>> RUN c', '   4 | >>> RUN d', '   5 |     RUN e', '-'.repeat(20)].join('\n'),
    );
  });

  test('the first line has no lines before it; a range past the end gives nothing', () => {
    expect(sourceExcerpt({ filename: 'x', text, ranges: [{ start: 1, end: 1 }] }).split('\n').slice(2, 5)).toEqual(['   1 | >>> FROM a', '   2 |     RUN b', '   3 |     RUN c']);
    expect(sourceExcerpt({ filename: 'x', text, ranges: [{ start: 40, end: 40 }] })).toBe('');
    expect(sourceExcerpt({ filename: 'x', text, ranges: [] })).toBe('');
  });
});
