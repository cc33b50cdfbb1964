import { describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { State } from '../llb/state';
import { marshal } from '../llb/marshal';
import { overrideDockerfile } from './dockerfile-override';

describe('a Dockerfile given as text', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-override-test-'));
  fs.writeFileSync(path.join(dir, 'app.Dockerfile'), 'FROM base\n');
  fs.writeFileSync(path.join(dir, 'app.Dockerfile.dockerignore'), 'secret.txt\n');
  const spec = { name: 'app', contextDir: dir, dockerfile: path.join(dir, 'app.Dockerfile'), dockerfileText: 'FROM linked\n' };

  test("served by the build's own session from a private directory, under its own name, beside its .dockerignore", async () => {
    let served: string | undefined;
    {
      await using override = await overrideDockerfile(spec, { kind: 'own-session' });
      served = override.dockerfileDir!;
      expect(override.source).toEqual({ kind: 'own-session' });
      expect(fs.readFileSync(path.join(served, 'app.Dockerfile'), 'utf8')).toBe('FROM linked\n');
      expect(fs.readFileSync(path.join(served, 'app.Dockerfile.dockerignore'), 'utf8')).toBe('secret.txt\n');
    }
    expect(fs.existsSync(served)).toBe(false);
  });

  test('with LLB frontend inputs the Dockerfile input is the text itself', async () => {
    const context = marshal(State.local('ctx'));
    const original = marshal(State.local('df'));
    await using override = await overrideDockerfile(spec, { kind: 'frontend-inputs', context, dockerfile: original, filename: 'sub/app.Dockerfile' });
    expect(override.dockerfileDir).toBeUndefined();
    expect(override.source).toEqual({ kind: 'frontend-inputs', context, dockerfile: marshal(State.scratch().mkfile('/Dockerfile', 'FROM linked\n')), filename: 'Dockerfile' });
  });

  test('without text nothing changes', async () => {
    const source = { kind: 'local-sessionid' as const, sessionId: 's', dockerfileLocal: 'df' };
    await using override = await overrideDockerfile({ ...spec, dockerfileText: undefined }, source);
    expect(override.source).toBe(source);
    expect(override.dockerfileDir).toBeUndefined();
  });
});
