import { redactDeep, type BuildResult } from '../../plugin/buildkit/index';
import { writeJsonFile } from './write-json-file';

/** One target that succeeded, as the aggregated metadata file records it. */
export interface BakeMetadataEntry {
  /** The key: the Nx project name (bake's target name). */
  project: string;
  result: BuildResult;
  imageNames: readonly string[];
}

/**
 * The aggregated metadata of a run in the shape `docker buildx bake
 * --metadata-file` writes: an object keyed by target, each value the
 * target's exporter response with base64-encoded JSON values decoded
 * (`containerimage.digest`, `containerimage.config.digest`,
 * `containerimage.descriptor`, `image.name`, …) plus `buildx.build.ref`;
 * warnings of every target under the top-level `buildx.build.warnings`, in
 * BuildKit's VertexWarning JSON (byte fields base64, as Go encodes them).
 * Targets that failed or were skipped are absent.
 */
export function bakeMetadata(entries: readonly BakeMetadataEntry[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const warnings: unknown[] = [];
  for (const { project, result, imageNames } of entries) {
    out[project] = {
      ...decodeExporterResponse(result.exporterResponse),
      ...(result.exporterResponse['image.name'] ? {} : imageNames.length ? { 'image.name': imageNames.join(',') } : {}),
      // buildx writes <builder>/<node>/<ref>; we have one builder and no nodes.
      ...(result.ref ? { 'buildx.build.ref': `nx-buildkit/nx-buildkit0/${result.ref}` } : {}),
    };
    for (const w of result.warnings) {
      warnings.push({
        vertex: w.vertex,
        level: w.level,
        short: Buffer.from(w.short).toString('base64'),
        detail: w.detail.map((d) => Buffer.from(d).toString('base64')),
        ...(w.url ? { url: w.url } : {}),
      });
    }
  }
  if (warnings.length) out['buildx.build.warnings'] = warnings;
  return out;
}

/**
 * Exporter response values that are base64 of a JSON object (or of a list
 * of objects) become that JSON; every other value stays the string it is,
 * as buildx decodes them.
 */
export function decodeExporterResponse(response: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(response)) {
    // The frontend's result.json is JSON already, not base64.
    const text = key === 'result.json' ? value : strictBase64(value);
    out[key] = text === undefined ? value : (jsonObjectOrList(text) ?? value);
  }
  return out;
}

/** Write the aggregated file atomically (a reader never sees half of it), every string redacted. */
export async function writeBakeMetadata(file: string, entries: readonly BakeMetadataEntry[]): Promise<void> {
  await writeJsonFile(file, redactDeep(bakeMetadata(entries)));
}

/** Decoded text, if `value` is standard padded base64 (Node's own decoder would accept nearly anything). */
function strictBase64(value: string): string | undefined {
  if (value.length === 0 || value.length % 4 !== 0 || !/^[A-Za-z0-9+/]+={0,2}$/.test(value)) return undefined;
  return Buffer.from(value, 'base64').toString('utf8');
}

function jsonObjectOrList(text: string): unknown {
  try {
    const parsed: unknown = JSON.parse(text);
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed) && Object.keys(parsed).length > 0) return parsed;
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((e) => e && typeof e === 'object' && !Array.isArray(e))) return parsed;
  } catch {
    // Not JSON: the value stays a string.
  }
  return undefined;
}
