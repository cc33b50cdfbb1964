import { describe, expect, test } from 'bun:test';
import { randomBytes } from 'node:crypto';
import { redact, redactDeep, registerSecret } from './redact';

const unique = (label: string) => `${label}-${randomBytes(6).toString('hex')}`;

describe('redact', () => {
  test('scrubs a registered value wherever it appears', () => {
    const s = unique('token');
    registerSecret(s);
    expect(redact(`a ${s} b ${s}`)).toBe('a <redacted> b <redacted>');
  });

  test('values shorter than 8 characters are not remembered', () => {
    registerSecret('short');
    expect(redact('a short text')).toBe('a short text');
  });

  test('a multi-line value is scrubbed whole and line by line', () => {
    const l1 = unique('line-one');
    const l2 = unique('line-two');
    registerSecret(`${l1}\n${l2}\n`);
    expect(redact(`${l1}\n${l2}\n`)).toBe("<redacted>");
    expect(redact(`${l1}\n${l2}`)).toBe("<redacted>\n<redacted>");
    expect(redact(`#3 ${l2}`)).toBe('#3 <redacted>');
  });

  test('a value containing another registered value is scrubbed whole', () => {
    const inner = unique('inner');
    const outer = `${inner}-and-more`;
    registerSecret(inner);
    registerSecret(outer);
    expect(redact(`x ${outer} y`)).toBe('x <redacted> y');
  });

  test('redactDeep keeps JSON valid and scrubs keys and nested strings', () => {
    const s = unique('deep');
    registerSecret(s);
    const out = redactDeep({ a: [`v=${s}`, 1, true, null], [s]: { b: s } });
    expect(out).toEqual({ a: ['v=<redacted>', 1, true, null], '<redacted>': { b: '<redacted>' } });
    expect(JSON.stringify(out)).not.toContain(s);
  });
});
