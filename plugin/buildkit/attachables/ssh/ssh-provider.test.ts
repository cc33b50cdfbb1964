import { afterAll, beforeAll, describe, expect, test } from 'bun:test';
import * as grpc from '@grpc/grpc-js';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { BuildkitError } from '../../errors';
import { decodeBytesMessage, encodeBytesMessage } from '../../protocol/bytes-message';
import { messageCodec } from '../../protocol/root';
import { SshProvider } from './ssh-provider';

const checkRequest = messageCodec<{ ID?: string }>('moby.sshforward.v1.CheckAgentRequest');
const checkResponse = messageCodec<object>('moby.sshforward.v1.CheckAgentResponse');
const identity = (b: Buffer) => b;

/** SSH_AGENTC_REQUEST_IDENTITIES, as a whole agent message. */
const requestIdentities = Buffer.from([0, 0, 0, 1, 11]);
/** SSH_AGENTC_REMOVE_ALL_IDENTITIES. */
const removeAll = Buffer.from([0, 0, 0, 1, 19]);

let dir: string;
let agent: ChildProcess;
let agentSocket: string;
let keyFile: string;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nxbk-ssh-test-'));
  keyFile = keygen('user-key', 'agent-key@nxbk-test');
  // The "user's" agent: a real OpenSSH ssh-agent holding one key.
  agentSocket = path.join(dir, 'user-agent.sock');
  agent = spawn('ssh-agent', ['-D', '-a', agentSocket], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !fs.existsSync(agentSocket); i++) await new Promise((r) => setTimeout(r, 10));
  execFileSync('ssh-add', ['-q', keyFile], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket }, stdio: 'ignore' });
});
afterAll(() => {
  agent.kill();
  fs.rmSync(dir, { recursive: true, force: true });
});

function keygen(name: string, comment: string): string {
  const file = path.join(dir, name);
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', file], { stdio: 'ignore' });
  return file;
}

/** Serve `provider` on a real grpc-js server over a unix socket. */
async function serve(provider: SshProvider) {
  const server = new grpc.Server();
  provider.register({ addService: (d, impl) => server.addService(d, impl) });
  const address = `unix://${path.join(dir, `grpc-${Math.random().toString(36).slice(2)}.sock`)}`;
  await new Promise<void>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const checkAgent = (id: string) =>
    new Promise<{ code: number; details?: string }>((resolve) =>
      client.makeUnaryRequest('/moby.sshforward.v1.SSH/CheckAgent', checkRequest.serialize, checkResponse.deserialize, { ID: id }, (err) =>
        resolve(err ? { code: err.code, details: err.details } : { code: 0 })));
  /** One forwarded connection: send `requests`, half-close, collect everything until the call ends. */
  const forward = (id: string | undefined, requests: Buffer[]) =>
    new Promise<{ code: number; details?: string; reply: Buffer }>((resolve) => {
      const metadata = new grpc.Metadata();
      if (id !== undefined) metadata.set('buildkit.ssh.id', id);
      const call = client.makeBidiStreamRequest('/moby.sshforward.v1.SSH/ForwardAgent', identity, identity, metadata);
      const chunks: Buffer[] = [];
      call.on('data', (m: Buffer) => chunks.push(decodeBytesMessage(m)));
      call.on('error', () => {});
      call.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, reply: Buffer.concat(chunks) }));
      for (const r of requests) call.write(encodeBytesMessage(r));
      call.end();
    });
  return { checkAgent, forward, stop: () => { client.close(); server.forceShutdown(); } };
}

/** The comments of an SSH_AGENT_IDENTITIES_ANSWER (type 12), checking its framing. */
function identityComments(reply: Buffer): string[] {
  expect(reply.readUInt32BE(0)).toBe(reply.length - 4);
  expect(reply[4]).toBe(12);
  const count = reply.readUInt32BE(5);
  const comments: string[] = [];
  let pos = 9;
  for (let i = 0; i < count; i++) {
    pos += 4 + reply.readUInt32BE(pos); // key blob
    const len = reply.readUInt32BE(pos);
    comments.push(reply.subarray(pos + 4, pos + 4 + len).toString());
    pos += 4 + len;
  }
  return comments;
}

async function createError(p: Promise<unknown>): Promise<BuildkitError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(BuildkitError);
    return err as BuildkitError;
  }
  throw new Error('expected create to fail');
}

describe('SshProvider', () => {
  test('forwards a real ssh-agent: identities come back through the stream; unknown IDs are refused', async () => {
    await using provider = await SshProvider.create([{ paths: [] }], { env: { SSH_AUTH_SOCK: agentSocket } });
    expect(provider.ids).toEqual(['default']);
    const { checkAgent, forward, stop } = await serve(provider);
    try {
      expect((await checkAgent('')).code).toBe(0); // empty ID means default
      expect((await checkAgent('default')).code).toBe(0);
      const unknown = await checkAgent('other');
      expect(unknown.code).toBe(grpc.status.NOT_FOUND);
      expect(unknown.details).toBe('unset ssh forward key other');

      const listed = await forward(undefined, [requestIdentities]);
      expect(listed.code).toBe(grpc.status.OK); // the agent closed after our half-close, so the call ended OK
      expect(identityComments(listed.reply)).toEqual(['agent-key@nxbk-test']);

      const silent = await forward(undefined, []);
      expect(silent).toEqual({ code: grpc.status.OK, details: 'OK', reply: Buffer.alloc(0) }); // half-close, agent closes, call ends

      const refused = await forward('other', [requestIdentities]);
      expect(refused.code).toBe(grpc.status.NOT_FOUND);
      expect(refused.details).toBe('unset ssh forward key other');
    } finally {
      stop();
    }
  });

  test('the forwarded agent is read-only: removing keys fails and the key stays', async () => {
    await using provider = await SshProvider.create([{ id: 'ro', paths: [agentSocket] }]);
    const { forward, stop } = await serve(provider);
    try {
      const res = await forward('ro', [removeAll, requestIdentities, removeAll]);
      expect(res.reply.subarray(0, 5).equals(Buffer.from([0, 0, 0, 1, 5]))).toBe(true); // SSH_AGENT_FAILURE
      const answer = res.reply.subarray(5, res.reply.length - 5);
      expect(identityComments(answer)).toEqual(['agent-key@nxbk-test']);
      expect(res.reply.subarray(res.reply.length - 5).equals(Buffer.from([0, 0, 0, 1, 5]))).toBe(true);
      expect(execFileSync('ssh-add', ['-l'], { env: { ...process.env, SSH_AUTH_SOCK: agentSocket } }).toString()).toContain('agent-key@nxbk-test');
    } finally {
      stop();
    }
  });

  test('large replies stream through with backpressure (many requests in one go)', async () => {
    await using provider = await SshProvider.create([{ paths: [agentSocket] }]);
    const { forward, stop } = await serve(provider);
    try {
      const res = await forward('default', Array(2000).fill(requestIdentities));
      let pos = 0;
      let answers = 0;
      while (pos < res.reply.length) {
        const len = res.reply.readUInt32BE(pos);
        expect(identityComments(res.reply.subarray(pos, pos + 4 + len))).toEqual(['agent-key@nxbk-test']);
        pos += 4 + len;
        answers++;
      }
      expect(answers).toBe(2000);
    } finally {
      stop();
    }
  });

  test('key files are served from a private ssh-agent, stopped and removed by close()', async () => {
    const second = keygen('deploy-key', 'deploy-key@nxbk-test');
    const provider = await SshProvider.create([{ id: 'keys', paths: [keyFile, second] }]);
    const { checkAgent, forward, stop } = await serve(provider);
    const privateDirs = () => fs.readdirSync(os.tmpdir()).filter((n) => n.startsWith('nxbk-ssh-') && fs.existsSync(path.join(os.tmpdir(), n, 'agent.sock')));
    let ours: string[];
    try {
      expect((await checkAgent('keys')).code).toBe(0);
      expect((await checkAgent('default')).code).toBe(grpc.status.NOT_FOUND);
      const res = await forward('keys', [requestIdentities]);
      expect(identityComments(res.reply).sort()).toEqual(['agent-key@nxbk-test', 'deploy-key@nxbk-test']);
      ours = privateDirs();
      expect(ours.length).toBeGreaterThan(0);
      for (const d of ours) expect(fs.statSync(path.join(os.tmpdir(), d)).mode & 0o777).toBe(0o700);
    } finally {
      stop();
      await provider.close();
    }
    const remaining = privateDirs();
    // Our agent's directory is gone (other test processes may have their own).
    expect(ours.some((d) => !remaining.includes(d))).toBe(true);
  });

  test('bad sources fail create(), naming the ID: missing path, unset SSH_AUTH_SOCK, dead socket, unusable key files', async () => {
    const missing = await createError(SshProvider.create([{ id: 'gone', paths: [path.join(dir, 'nope')] }]));
    expect(missing.message).toContain('ssh id gone');
    expect(missing.code).toBe('not-found');

    const unset = await createError(SshProvider.create([{}], { env: {} }));
    expect(unset.message).toContain('ssh id default');
    expect(unset.message).toContain('SSH_AUTH_SOCK is not set');

    // A socket file nobody listens on any more.
    const deadPath = path.join(dir, 'dead.sock');
    const server = net.createServer().listen(deadPath);
    await new Promise((r) => server.once('listening', r));
    fs.linkSync(deadPath, `${deadPath}.keep`); // a second name survives the server's unlink on close
    await new Promise((r) => server.close(r));
    const dead = await createError(SshProvider.create([{ id: 'dead', paths: [`${deadPath}.keep`] }]));
    expect(dead.message).toContain('ssh id dead');
    expect(dead.message).toContain('ECONNREFUSED');

    const loose = path.join(dir, 'loose-key');
    fs.copyFileSync(keyFile, loose);
    fs.chmodSync(loose, 0o644);
    const perms = await createError(SshProvider.create([{ id: 'loose', paths: [loose] }]));
    expect(perms.message).toContain('ssh id loose: cannot add key file');
    expect(perms.message).toMatch(/UNPROTECTED|too open/);

    const notKey = path.join(dir, 'not-a-key');
    fs.writeFileSync(notKey, 'hello', { mode: 0o600 });
    const format = await createError(SshProvider.create([{ id: 'junk', paths: [notKey] }]));
    expect(format.message).toContain('ssh id junk: cannot add key file');

    const both = await createError(SshProvider.create([{ id: 'mix', paths: [agentSocket, keyFile] }]));
    expect(both.message).toContain('ssh id mix');

    const twice = await createError(SshProvider.create([{ paths: [agentSocket] }, { id: 'default', paths: [agentSocket] }]));
    expect(twice.message).toContain('more than once');
  });
});
