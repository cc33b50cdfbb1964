import { describe, expect, test } from 'bun:test';
import path from 'node:path';
import { functionLengthViolations, longFunctions } from './check-function-length';

/** A function body of `n` statement lines. */
const body = (n: number) => Array.from({ length: n }, (_, i) => `  const v${i} = ${i};`).join('\n');

describe('the function length bound', () => {
  test('every function in executors/ and plugin/engine/ is under 60 lines', () => {
    expect(functionLengthViolations(path.resolve(import.meta.dir, '..', '..'))).toEqual([]);
  });

  test('a declaration of 59 lines passes, one of 60 does not', () => {
    // Header and closing brace are lines of the function too.
    expect(longFunctions('a.ts', `function short() {\n${body(57)}\n}\n`)).toEqual([]);
    expect(longFunctions('a.ts', `\nfunction long() {\n${body(58)}\n}\n`)).toEqual([{ name: 'long', line: 2, lines: 60 }]);
  });

  test('methods, arrows and function expressions are counted, named by what they are assigned to', () => {
    const text = [
      `class C {\n  m() {\n${body(60)}\n  }\n}`,
      `const arrow = () => {\n${body(60)}\n};`,
      `const expr = function () {\n${body(60)}\n};`,
      `call(() => {\n${body(60)}\n});`,
    ].join('\n');
    expect(longFunctions('a.ts', text).map((f) => f.name)).toEqual(['m', 'arrow', 'expr', '(arrow function)']);
  });

  test("a function's lines include those of the functions nested in it", () => {
    const text = `function outer() {\n${body(30)}\n  const inner = () => {\n${body(30)}\n  };\n}\n`;
    expect(longFunctions('a.ts', text)).toEqual([{ name: 'outer', line: 1, lines: 64 }]);
  });
});
