import { afterEach, describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CapabilityFile, capabilityFilePath } from './capability-file';

const dirs: string[] = [];
afterEach(() => dirs.splice(0).forEach((d) => fs.rmSync(d, { recursive: true, force: true })));
function workspace(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-capfile-'));
  dirs.push(dir);
  return dir;
}

describe('CapabilityFile', () => {
  test('answers are merged per identity, survive a new instance, and are forgotten on request', async () => {
    const file = capabilityFilePath(workspace());
    expect(file).toContain(path.join('node_modules', '.cache', 'nx-buildkit', 'capabilities.json'));
    const store = new CapabilityFile(file);
    expect(await store.read('engine A')).toBeUndefined();
    await store.write('engine A', { binding: 'local-sessionid' });
    await store.write('engine A', { namedContexts: true });
    await store.write('engine B', { binding: 'prefetch' });
    const again = new CapabilityFile(file);
    expect(await again.read('engine A')).toEqual({ binding: 'local-sessionid', namedContexts: true });
    await again.forget('engine A');
    expect(await store.read('engine A')).toBeUndefined();
    expect(await store.read('engine B')).toEqual({ binding: 'prefetch' });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['capabilities.json']);
  });

  test('answers written at the same time are all kept', async () => {
    const store = new CapabilityFile(capabilityFilePath(workspace()));
    await Promise.all([store.write('engine A', { binding: 'prefetch' }), store.write('engine A', { namedContexts: false }), store.write('engine B', { binding: 'local-sessionid' })]);
    expect(await store.read('engine A')).toEqual({ binding: 'prefetch', namedContexts: false });
    expect(await store.read('engine B')).toEqual({ binding: 'local-sessionid' });
  });

  test('a damaged or foreign file is nothing remembered; answers no probe could give are dropped', async () => {
    const file = capabilityFilePath(workspace());
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, '{ not json');
    const store = new CapabilityFile(file);
    expect(await store.read('engine A')).toBeUndefined();
    fs.writeFileSync(file, JSON.stringify({ version: 1, builders: { 'engine A': { binding: 'telepathy', namedContexts: 'yes' }, 'engine B': 7 } }));
    expect(await store.read('engine A')).toEqual({});
    expect(await store.read('engine B')).toBeUndefined();
    await store.write('engine C', { binding: 'frontend-inputs' });
    expect(await store.read('engine C')).toEqual({ binding: 'frontend-inputs' });
  });
});
