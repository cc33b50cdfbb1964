import { describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseIgnoreFile, readDockerignore } from './ignore-file';

describe('parseIgnoreFile', () => {
  test('the upstream ignorefile example', () => {
    const content = 'test1\n/test2\n/a/file/here\n\nlastfile\n# this is a comment\n! /inverted/abs/path\n!\n! ';
    expect(parseIgnoreFile(content)).toEqual(['test1', 'test2', 'a/file/here', 'lastfile', '!inverted/abs/path', '!', '!']);
  });
  test('BOM, CRLF line ends, cleaning, and # only at the start of a line', () => {
    const content = '\uFEFFa/../b\r\n  # not a comment\r\n#comment\r\n\t./c/./d/ \r\n/\r\n!/\r\nx//y\n';
    expect(parseIgnoreFile(content)).toEqual(['b', '# not a comment', 'c/d', '/', '!/', 'x/y']);
  });
  test('empty input and a file without a final newline', () => {
    expect(parseIgnoreFile('')).toEqual([]);
    expect(parseIgnoreFile('\n\n')).toEqual([]);
    expect(parseIgnoreFile('only')).toEqual(['only']);
  });
  test('a line longer than 64 KiB is an error, as in Docker', () => {
    expect(() => parseIgnoreFile('x'.repeat(70_000))).toThrow('token too long');
  });
});

describe('readDockerignore', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-ignore-'));
  test('reads <context>/.dockerignore', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'node_modules\n!node_modules/keep\n');
    expect(await readDockerignore(dir)).toEqual({ patterns: ['node_modules', '!node_modules/keep'], file: path.join(dir, '.dockerignore') });
    fs.rmSync(dir, { recursive: true });
  });
  test('<Dockerfile>.dockerignore next to the Dockerfile wins, even when empty', async () => {
    const dir = tmp();
    fs.mkdirSync(path.join(dir, 'docker'));
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'from-context\n');
    fs.writeFileSync(path.join(dir, 'docker', 'app.Dockerfile.dockerignore'), 'from-dockerfile\n');
    expect((await readDockerignore(dir, { dockerfile: 'docker/app.Dockerfile' })).patterns).toEqual(['from-dockerfile']);
    expect((await readDockerignore(dir, { dockerfile: path.join(dir, 'docker', 'app.Dockerfile') })).patterns).toEqual(['from-dockerfile']);
    fs.writeFileSync(path.join(dir, 'docker', 'app.Dockerfile.dockerignore'), '');
    expect((await readDockerignore(dir, { dockerfile: 'docker/app.Dockerfile' })).patterns).toEqual([]);
    // Another Dockerfile without its own file falls back to the context's.
    expect((await readDockerignore(dir, { dockerfile: 'docker/other.Dockerfile' })).patterns).toEqual(['from-context']);
    fs.rmSync(dir, { recursive: true });
  });
  test('no file, or a directory named .dockerignore: no patterns', async () => {
    const dir = tmp();
    expect(await readDockerignore(dir)).toEqual({ patterns: [] });
    fs.mkdirSync(path.join(dir, '.dockerignore'));
    expect(await readDockerignore(dir)).toEqual({ patterns: [] });
    fs.rmSync(dir, { recursive: true });
  });
  test('an aborted signal stops the read', async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, '.dockerignore'), 'x\n');
    await expect(readDockerignore(dir, { signal: AbortSignal.abort() })).rejects.toThrow();
    fs.rmSync(dir, { recursive: true });
  });
});
