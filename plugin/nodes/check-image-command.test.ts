import { afterEach, describe, expect, test } from 'bun:test';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { checkImageCommand, checkImageCommands } from './check-image-command';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * A workspace whose installed checker only reports that it ran, and with
 * which arguments: what the tests below need to see is whether the command
 * asked Node at all.
 */
function workspace(): string {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-check-cmd-'));
  dirs.push(root);
  fs.mkdirSync(path.join(root, 'node_modules/nx-buildkit/dist'), { recursive: true });
  fs.writeFileSync(path.join(root, 'node_modules/nx-buildkit/dist/check-image.cjs'), "console.log('checker ran: ' + process.argv.slice(2).join(' '));\n");
  return root;
}

/** Run a runtime input as Nx does on POSIX: `sh -c` from the workspace root; stdout and stderr are what Nx hashes. */
function run(root: string, command: string): string {
  const r = spawnSync('sh', ['-c', command], { cwd: root, encoding: 'utf8' });
  return (r.stdout + r.stderr).trim();
}

function writeMetadata(root: string, file: string, value: unknown): void {
  fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
  fs.writeFileSync(path.join(root, file), JSON.stringify(value, null, 2) + '\n');
}

describe('checkImageCommand', () => {
  test('metadata of an image that was not pushed: ok, without starting Node', () => {
    const root = workspace();
    writeMetadata(root, 'dist/images/a/metadata.json', { imageNames: ['a:latest'], pushed: false, digest: 'sha256:' + 'a'.repeat(64) });
    expect(run(root, checkImageCommand(root, 'dist/images/a/metadata.json'))).toBe('ok');
  });

  test('metadata of a pushed image is checked by Node, however the JSON is spaced', () => {
    const root = workspace();
    writeMetadata(root, 'dist/images/a/metadata.json', { imageNames: ['r/a:latest'], pushed: true });
    fs.mkdirSync(path.join(root, 'out'));
    fs.writeFileSync(path.join(root, 'out/b meta.json'), '{"imageNames":["r/b"],"pushed" :true}');
    expect(run(root, checkImageCommand(root, 'dist/images/a/metadata.json'))).toBe('checker ran: dist/images/a/metadata.json');
    expect(run(root, checkImageCommand(root, 'out/b meta.json', '.docker'))).toBe('checker ran: --docker-config .docker out/b meta.json');
  });

  test('metadata grep cannot read (missing, a directory) is left to Node, which knows what to say', () => {
    const root = workspace();
    fs.mkdirSync(path.join(root, 'dir.json'));
    expect(run(root, checkImageCommand(root, 'dist/images/none/metadata.json'))).toBe('checker ran: dist/images/none/metadata.json');
    expect(run(root, checkImageCommand(root, 'dir.json'))).toBe('checker ran: dir.json');
  });

  test('paths with shell characters stay one word', () => {
    const root = workspace();
    writeMetadata(root, 'out/$HOME `x`.json', { pushed: true });
    expect(run(root, checkImageCommand(root, 'out/$HOME `x`.json'))).toBe('checker ran: out/$HOME `x`.json');
  });

  test('on Windows (cmd /C, no grep) the command is Node alone', () => {
    const root = workspace();
    expect(checkImageCommand(root, 'out/b meta.json', '.docker', 'win32')).toBe('node node_modules/nx-buildkit/dist/check-image.cjs --docker-config .docker "out/b meta.json"');
  });
});

describe('checkImageCommands', () => {
  test('gives the same commands as checkImageCommand, for every project of the workspace', () => {
    const root = workspace();
    const command = checkImageCommands(root);
    for (const [file, config] of [['dist/images/a/metadata.json', undefined], ['out/b meta.json', '.docker'], ['c/$HOME.json', 'my cfg']] as const) {
      expect(command(file, config)).toBe(checkImageCommand(root, file, config));
    }
  });

  test('finds the checker once: one inference names one checker for all its projects', () => {
    const root = workspace();
    const command = checkImageCommands(root, 'win32');
    fs.rmSync(path.join(root, 'node_modules'), { recursive: true });
    expect(command('m.json')).toBe('node node_modules/nx-buildkit/dist/check-image.cjs m.json');
    // A new inference looks again: the installed copy is gone, so this package's own dist/ is named.
    expect(checkImageCommands(root, 'win32')('m.json')).toMatch(/^node \S*dist\/check-image\.cjs m\.json$/);
    expect(checkImageCommands(root, 'win32')('m.json')).not.toContain('node_modules/nx-buildkit');
  });
});
