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

/** A PATH of only sh, grep and node: a machine without Bun. */
function pathWithoutBun(): string {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-no-bun-'));
  dirs.push(bin);
  for (const tool of ['sh', 'grep', 'node']) {
    const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim();
    fs.symlinkSync(fs.realpathSync(found), path.join(bin, tool));
  }
  return bin;
}

/** Run a runtime input as Nx does on POSIX: `sh -c` from the workspace root; stdout and stderr are what Nx hashes. */
function run(root: string, command: string, env: NodeJS.ProcessEnv = process.env): string {
  const r = spawnSync('sh', ['-c', command], { cwd: root, encoding: 'utf8', env });
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

  test('metadata of a loaded image is checked by the checker too (the engine must still hold it)', () => {
    const root = workspace();
    writeMetadata(root, 'dist/images/a/metadata.json', { imageNames: ['a:latest'], pushed: false, loaded: true, loadedInto: { socketPath: '/x.sock' } });
    expect(run(root, checkImageCommand(root, 'dist/images/a/metadata.json'))).toBe('checker ran: dist/images/a/metadata.json');
  });

  test('the checker runs under Bun where Bun is installed, else under Node, printing the same', () => {
    const root = workspace();
    const checker = path.join(root, 'node_modules/nx-buildkit/dist/check-image.cjs');
    fs.writeFileSync(checker, "console.log(typeof Bun === 'undefined' ? 'node' : 'bun');\n");
    writeMetadata(root, 'm.json', { pushed: true });
    const command = checkImageCommand(root, 'm.json');
    expect(run(root, command)).toBe('bun');
    expect(run(root, command, { ...process.env, PATH: pathWithoutBun() })).toBe('node');
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
