import type { google } from '../gen/types';
import { messageType, plainObjectOptions } from '../protocol/root';
import { useStatusDetailsDecoder } from '../errors';
import type { ErrorDetails, SourceLocation } from './error-details';

/**
 * Decode the `grpc-status-details-bin` trailer of a failed call into plain
 * {@link ErrorDetails}; `undefined` when the bytes are not a status with any
 * detail we know. Never throws: details only add to an error.
 *
 * BuildKit (0.8 onwards) marshals each detail with containerd's typeurl,
 * whose type URLs name the Go package (`github.com/moby/buildkit/errdefs.Source`);
 * since the JSON registration the value is protojson and the URL ends in
 * `+json`. A plain protobuf value (`type.googleapis.com/…errdefs.Source` or
 * the bare Go name) is decoded with the generated `errdefs` types.
 */
export function decodeStatusDetails(bytes: Uint8Array): ErrorDetails | undefined {
  let status: google.rpc.Status;
  try {
    const type = messageType('google.rpc.Status');
    status = type.toObject(type.decode(bytes), plainObjectOptions) as google.rpc.Status;
  } catch {
    return undefined;
  }
  const details: ErrorDetails = { sources: [] };
  let known = false;
  for (const any of status.details ?? []) {
    const kind = detailKind(any.type_url ?? '');
    if (!kind) continue;
    const value = readDetail(kind.name, kind.json, any.value ?? new Uint8Array());
    if (!value) continue;
    known = addDetail(details, kind.name, value) || known;
  }
  return known ? details : undefined;
}

type DetailName = 'Vertex' | 'Source' | 'Frontend' | 'FrontendCap' | 'Subrequest' | 'Solve';
const detailNames = new Set<string>(['Vertex', 'Source', 'Frontend', 'FrontendCap', 'Subrequest', 'Solve']);

/** `github.com/moby/buildkit/errdefs.Source+json` → Source, JSON; stack traces and unknown types → undefined. */
function detailKind(typeUrl: string): { name: DetailName; json: boolean } | undefined {
  const json = typeUrl.endsWith('+json');
  const full = (json ? typeUrl.slice(0, -'+json'.length) : typeUrl).split('/').pop() ?? '';
  const dot = full.lastIndexOf('.');
  const pkg = full.slice(0, dot);
  const name = full.slice(dot + 1);
  if (!(pkg === 'errdefs' || pkg.endsWith('.errdefs')) || !detailNames.has(name)) return undefined;
  return { name: name as DetailName, json };
}

/** One detail as a protojson-shaped object (bytes as base64, like protojson writes them). */
function readDetail(name: DetailName, json: boolean, value: Uint8Array): Record<string, unknown> | undefined {
  try {
    if (json) return JSON.parse(Buffer.from(value).toString('utf8')) as Record<string, unknown>;
    const type = messageType(`errdefs.${name}`);
    return type.toObject(type.decode(value), { ...plainObjectOptions, bytes: String, longs: String }) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function addDetail(details: ErrorDetails, name: DetailName, value: Record<string, unknown>): boolean {
  switch (name) {
    case 'Vertex':
      if (typeof value.digest !== 'string') return false;
      details.vertex ??= value.digest;
      return true;
    case 'Source': {
      const source = sourceLocation(value);
      if (source) details.sources.push(source);
      return !!source;
    }
    case 'Frontend':
      if (typeof value.name !== 'string') return false;
      details.frontend ??= value.name;
      return true;
    case 'FrontendCap':
      if (typeof value.name !== 'string') return false;
      details.frontendCap ??= value.name;
      return true;
    case 'Subrequest':
      if (typeof value.name !== 'string') return false;
      details.subrequest ??= value.name;
      return true;
    case 'Solve': {
      const description = isRecord(value.description) ? stringValues(value.description) : {};
      details.solve ??= { description };
      return true;
    }
  }
}

function sourceLocation(value: Record<string, unknown>): SourceLocation | undefined {
  const info = isRecord(value.info) ? value.info : undefined;
  if (!info || typeof info.filename !== 'string') return undefined;
  const text = typeof info.data === 'string' ? Buffer.from(info.data, 'base64').toString('utf8') : '';
  const ranges = (Array.isArray(value.ranges) ? value.ranges : []).flatMap((r: unknown) => {
    if (!isRecord(r)) return [];
    const start = lineOf(r.start);
    const end = lineOf(r.end) ?? start;
    return start === undefined || end === undefined ? [] : [{ start, end: Math.max(start, end) }];
  });
  return { filename: info.filename, ...(typeof info.language === 'string' && info.language ? { language: info.language } : {}), text, ranges };
}

/** protojson omits zero values: a position without `line` is line 0, which BuildKit never uses (lines count from 1). */
function lineOf(position: unknown): number | undefined {
  if (!isRecord(position)) return undefined;
  const line = Number(position.line ?? 0);
  return Number.isInteger(line) && line > 0 ? line : undefined;
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function stringValues(r: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).filter((e): e is [string, string] => typeof e[1] === 'string'));
}

useStatusDetailsDecoder(decodeStatusDetails);
