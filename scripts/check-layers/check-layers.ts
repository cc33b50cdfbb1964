import fs from 'node:fs';
import path from 'node:path';
import { typescriptFiles } from '../typescript-files';
import { brokenRule, type ImportEdge } from './import-rules';

/** Directories whose TypeScript files are checked. */
const checked = ['plugin', 'executors', 'e2e', 'bench'];

/** Every import and re-export of a TypeScript file, static or dynamic. */
const importPattern = /(?:^|[\s;])(?:import|export)\s+(?:type\s+)?(?:[\w*{}\s,$]+?\s+from\s+)?['"]([^'"]+)['"]|\bimport\(\s*['"]([^'"]+)['"]\s*\)|\brequire\(\s*['"]([^'"]+)['"]\s*\)/g;

/** The imports of `file` (repository-relative), resolved to repository files where relative. */
export function importsOf(root: string, file: string): ImportEdge[] {
  const text = fs.readFileSync(path.join(root, file), 'utf8');
  const edges: ImportEdge[] = [];
  for (const m of text.matchAll(importPattern)) {
    const specifier = (m[1] ?? m[2] ?? m[3])!;
    if (!specifier.startsWith('.')) {
      edges.push({ from: file, specifier });
      continue;
    }
    const target = path.posix.normalize(path.posix.join(path.posix.dirname(file), specifier));
    edges.push({ from: file, specifier, to: resolveFile(root, target) });
  }
  return edges;
}

function resolveFile(root: string, target: string): string {
  for (const candidate of [target, `${target}.ts`, `${target}/index.ts`]) {
    if (fs.existsSync(path.join(root, candidate)) && fs.statSync(path.join(root, candidate)).isFile()) return candidate;
  }
  return target;
}

/** Every import in the repository that breaks a rule, as `file: "specifier": rule` lines. */
export function layerViolations(root: string): string[] {
  const out: string[] = [];
  for (const dir of checked) {
    for (const file of typescriptFiles(root, dir)) {
      for (const edge of importsOf(root, file)) {
        const rule = brokenRule(edge);
        if (rule) out.push(`${file}: "${edge.specifier}": ${rule}`);
      }
    }
  }
  return out;
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dir, '..', '..');
  const violations = layerViolations(root);
  for (const v of violations) console.error(v);
  console.log(violations.length ? `${violations.length} import(s) against the layering rules` : 'layering: every import follows the rules');
  process.exit(violations.length ? 1 : 0);
}
