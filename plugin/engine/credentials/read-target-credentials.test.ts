import { describe, expect, test } from 'bun:test';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ImageTarget } from '../image-target';
import { planCredentialGroups } from './credential-groups';
import { readTargetCredentials } from './read-target-credentials';

const target = (id: string, auth: ImageTarget['spec']['auth']): ImageTarget => ({
  id,
  dependsOn: [],
  contextPolicy: 'shared',
  spec: { name: id, contextDir: '/ws', dockerfile: '/ws/Dockerfile', auth },
});

describe('reading the targets\' credentials', () => {
  test('configs are read from each target\'s Docker config; auth: false is anonymous; an unreadable config touches no registry', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-creds-'));
    try {
      const write = (name: string, text: string) => {
        fs.mkdirSync(path.join(dir, name));
        fs.writeFileSync(path.join(dir, name, 'config.json'), text);
        return path.join(dir, name);
      };
      const withAccess = write('with', JSON.stringify({ auths: { 'reg.example': { auth: Buffer.from('u:p').toString('base64') } } }));
      const broken = write('broken', '{ not json');
      const dockerfile = 'FROM reg.example/base\n';
      const creds = await readTargetCredentials(
        [target('a', { configDir: withAccess, env: {} }), target('b', false), target('c', { configDir: broken, env: {} }), target('d', { configDir: withAccess, env: {} })],
        new Map(['a', 'b', 'c', 'd'].map((id) => [id, dockerfile])),
      );
      expect(creds.map((c) => [...c.use.hosts.keys()])).toEqual([['reg.example'], ['reg.example'], [], ['reg.example']]);
      const plan = planCredentialGroups(creds);
      expect(plan.conflicts.map((c) => `${c.a}/${c.b}`)).toEqual(['a/b', 'd/b']);
      expect(plan.conflicts[0]!.bSource).toBe('anonymous (auth disabled)');
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
