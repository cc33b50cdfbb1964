import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { typescriptFiles } from '../typescript-files';

/** Directories whose non-test TypeScript files are held to the bound. */
const checked = ['executors', 'plugin/engine'];

/** A function this long or longer is split (its lines include those of the functions nested in it). */
export const maxFunctionLines = 60;

/** One function of a source text that reaches the bound. */
export interface LongFunction {
  name: string;
  /** 1-based line of the function's first line. */
  line: number;
  lines: number;
}

/** How a function is named in the report: its own name, or what it is assigned to, or its kind. */
function nameOf(node: ts.FunctionLikeDeclaration, source: ts.SourceFile): string {
  if (node.name) return node.name.getText(source);
  const parent = node.parent;
  if (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent)) return parent.name.getText(source);
  return ts.isArrowFunction(node) ? '(arrow function)' : '(function expression)';
}

function isFunction(node: ts.Node): node is ts.FunctionLikeDeclaration {
  return ts.isFunctionDeclaration(node) || ts.isMethodDeclaration(node) || ts.isArrowFunction(node) || ts.isFunctionExpression(node)
    || ts.isConstructorDeclaration(node) || ts.isGetAccessorDeclaration(node) || ts.isSetAccessorDeclaration(node);
}

/** Every function with a body of `text` that is `maxFunctionLines` lines or longer, first line to last. */
export function longFunctions(fileName: string, text: string, max = maxFunctionLines): LongFunction[] {
  const source = ts.createSourceFile(fileName, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found: LongFunction[] = [];
  const visit = (node: ts.Node) => {
    if (isFunction(node) && node.body) {
      const first = source.getLineAndCharacterOfPosition(node.getStart(source)).line;
      const last = source.getLineAndCharacterOfPosition(node.getEnd()).line;
      const lines = last - first + 1;
      if (lines >= max) found.push({ name: nameOf(node, source), line: first + 1, lines });
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

/** Every function of the checked directories that reaches the bound, as `file:line: name is N lines` lines. */
export function functionLengthViolations(root: string): string[] {
  return checked.flatMap((dir) => typescriptFiles(root, dir)).filter((file) => !/\.test\.tsx?$/.test(file)).flatMap((file) =>
    longFunctions(file, fs.readFileSync(path.join(root, file), 'utf8')).map((f) => `${file}:${f.line}: ${f.name} is ${f.lines} lines (the bound is under ${maxFunctionLines})`));
}

if (import.meta.main) {
  const root = path.resolve(import.meta.dir, '..', '..');
  const violations = functionLengthViolations(root);
  for (const v of violations) console.error(v);
  console.log(violations.length ? `${violations.length} function(s) of ${maxFunctionLines} lines or more in ${checked.join(', ')}` : `function length: every function in ${checked.join(', ')} is under ${maxFunctionLines} lines`);
  process.exit(violations.length ? 1 : 0);
}
