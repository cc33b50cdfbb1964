import { createPrivateKey, X509Certificate } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { parseBuilderAddress } from '../buildkit/foundation';
import type { ImageExecutorOptions } from './executor-options';

/** The PEM blocks of one kind in a text (a CA bundle holds several certificates). */
const certificateBlock = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Problems with a task's `builder` and `builderTls` options that are certain
 * before any daemon is contacted: an address that cannot be parsed, TLS
 * files that are missing, unreadable or not PEM of the right kind, a client
 * certificate without its key. Each problem names project, target, field and
 * file, so the executor refuses the run before anything starts instead of
 * failing every target with a connection error. File contents are never
 * quoted (a key file is a secret).
 */
export function checkBuilderOptions(options: ImageExecutorOptions, where: { project: string; target: string }, workspaceRoot: string): string[] {
  const at = (field: string) => `${where.project}:${where.target}: option "${field}"`;
  const problems: string[] = [];
  if (options.builder !== undefined) {
    try {
      parseBuilderAddress(options.builder);
    } catch (err) {
      problems.push(`${at('builder')}: ${(err as Error).message}`);
    }
  }
  const tls = options.builderTls;
  if (!tls) return problems;
  if ((tls.certFile === undefined) !== (tls.keyFile === undefined)) {
    problems.push(`${at('builderTls')}: certFile and keyFile must be given together`);
  }
  const files: Array<['caFile' | 'certFile' | 'keyFile', (text: string) => string | undefined]> = [
    ['caFile', certificatesProblem],
    ['certFile', certificatesProblem],
    ['keyFile', keyProblem],
  ];
  for (const [field, check] of files) {
    const rel = tls[field];
    if (rel === undefined) continue;
    const file = path.resolve(workspaceRoot, rel);
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      problems.push(`${at(`builderTls.${field}`)}: ${file} ${code === 'ENOENT' ? 'does not exist' : `cannot be read (${code ?? (err as Error).message})`}`);
      continue;
    }
    const problem = check(text);
    if (problem) problems.push(`${at(`builderTls.${field}`)}: ${file} ${problem}`);
  }
  return problems;
}

function certificatesProblem(text: string): string | undefined {
  const blocks = text.match(certificateBlock) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate ("-----BEGIN CERTIFICATE-----")';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch {
      return blocks.length === 1 ? 'holds a PEM certificate that cannot be parsed' : `holds a PEM certificate that cannot be parsed (certificate ${i + 1} of ${blocks.length})`;
    }
  }
  return undefined;
}

function keyProblem(text: string): string | undefined {
  try {
    createPrivateKey(text);
    return undefined;
  } catch {
    return 'holds no PEM private key that can be parsed (an encrypted key needs decrypting first)';
  }
}
