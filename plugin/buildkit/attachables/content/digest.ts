import crypto from 'node:crypto';
import path from 'node:path';
import { BuildkitError } from '../../errors';

/** Digest algorithms an OCI layout may use, with their hex length. */
const hexLength = { sha256: 64, sha384: 96, sha512: 128 } as const;

/** A digest algorithm of the OCI image spec. */
export type DigestAlgorithm = keyof typeof hexLength;

/** A validated `<algorithm>:<hex>` content digest. */
export interface ParsedDigest {
  algorithm: DigestAlgorithm;
  hex: string;
  /** The digest as text, `<algorithm>:<hex>`. */
  value: string;
}

/**
 * Validate a digest string. Only lowercase hex of the algorithm's exact
 * length passes, so the digest can be used as a file name under `blobs/`
 * without any path escaping.
 */
export function parseDigest(value: string): ParsedDigest {
  const match = /^(sha256|sha384|sha512):([a-f0-9]+)$/.exec(value);
  const algorithm = match?.[1] as DigestAlgorithm | undefined;
  if (!match || !algorithm || match[2]!.length !== hexLength[algorithm]) {
    throw new BuildkitError('invalid-argument', `invalid digest ${JSON.stringify(value)}`);
  }
  return { algorithm, hex: match[2]!, value };
}

/** Where a blob lives in an OCI layout: `blobs/<algorithm>/<hex>`. */
export function blobPath(root: string, digest: ParsedDigest): string {
  return path.join(root, 'blobs', digest.algorithm, digest.hex);
}

/** The digest of some bytes (sha256 unless told otherwise). */
export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): string {
  return `${algorithm}:${crypto.createHash(algorithm).update(data).digest('hex')}`;
}
