import type * as grpc from '@grpc/grpc-js';
import fs from 'node:fs';
import net from 'node:net';
import { BuildkitError } from '../../errors';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { failStream, headerValues, rawMethod, statusError, Status } from '../call-status';
import { forwardAgentCall } from './forward-agent';
import { startPrivateAgent, type PrivateAgent } from './private-agent';
import { codecs, type CheckAgentRequest, type CheckAgentResponse } from './wire';

const checkRequest = codecs.checkAgentRequest;
const checkResponse = codecs.checkAgentResponse;

/** The ID the daemon uses when a mount names none (`sshforward.DefaultID`). */
export const defaultSshId = 'default';

/**
 * One forwarded SSH identity, like `--ssh <id>=<path>,<path>` of buildx:
 * no paths (or an empty one) means the agent at `SSH_AUTH_SOCK`; one path
 * to a socket forwards that agent; otherwise the paths are private key files
 * served from an agent of our own.
 */
export interface SshAgentSpec {
  /** Defaults to `default`. */
  id?: string;
  paths?: readonly string[];
}

/**
 * `moby.sshforward.v1.SSH`: forwards SSH agents to `RUN --mount=type=ssh`.
 * `CheckAgent` answers whether an ID is configured (the daemon asks before
 * mounting); each `ForwardAgent` call is one connection the build opened on
 * the mounted socket, joined to a fresh connection to the local agent
 * (read-only: see ReadOnlyAgentGate).
 *
 * Made by {@link SshProvider.create}, which checks every source before any
 * solve and starts private agents for key files; close() stops them.
 */
export class SshProvider implements Attachable, AsyncDisposable {
  private constructor(
    private readonly sockets: ReadonlyMap<string, string>,
    private readonly owned: PrivateAgent[],
  ) {}

  /**
   * Resolve and check every spec: sockets must exist and accept a
   * connection, key files must be readable and accepted by `ssh-add`. Errors
   * name the SSH ID. Private agents started before a failure are stopped.
   */
  static async create(specs: readonly SshAgentSpec[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<SshProvider> {
    const env = options.env ?? process.env;
    const sockets = new Map<string, string>();
    const owned: PrivateAgent[] = [];
    try {
      for (const spec of specs) {
        options.signal?.throwIfAborted();
        const id = spec.id || defaultSshId;
        if (sockets.has(id)) throw new BuildkitError('invalid-argument', `ssh id ${id} is configured more than once`);
        const source = await classifyPaths(id, spec.paths ?? [], env);
        if (source.kind === 'socket') {
          await probeSocket(id, source.path, options.signal);
          sockets.set(id, source.path);
        } else {
          const agent = await startPrivateAgent(id, source.keys, options.signal);
          owned.push(agent);
          sockets.set(id, agent.socket);
        }
      }
    } catch (err) {
      await Promise.allSettled(owned.map((a) => a.close()));
      throw BuildkitError.from(err);
    }
    return new SshProvider(sockets, owned);
  }

  /** The SSH IDs this provider forwards. */
  get ids(): string[] {
    return [...this.sockets.keys()];
  }

  register(registry: SessionServiceRegistry): void {
    registry.addService(
      {
        CheckAgent: {
          path: '/moby.sshforward.v1.SSH/CheckAgent',
          requestStream: false,
          responseStream: false,
          requestSerialize: checkRequest.serialize,
          requestDeserialize: checkRequest.deserialize,
          responseSerialize: checkResponse.serialize,
          responseDeserialize: checkResponse.deserialize,
        },
        ForwardAgent: rawMethod('/moby.sshforward.v1.SSH/ForwardAgent', true, true),
      },
      {
        CheckAgent: (call: grpc.ServerUnaryCall<CheckAgentRequest, CheckAgentResponse>, callback: grpc.sendUnaryData<CheckAgentResponse>) => {
          const id = call.request.ID || defaultSshId;
          // The daemon only singles out UNIMPLEMENTED ("no SSH key forwarded"); any other status fails a
          // required mount with our message, so it carries the Go provider's wording.
          if (!this.sockets.has(id)) return callback(statusError(Status.NOT_FOUND, `unset ssh forward key ${id}`));
          callback(null, {});
        },
        ForwardAgent: (call: grpc.ServerDuplexStream<Buffer, Buffer>) => {
          const id = headerValues(call.metadata, 'buildkit.ssh.id')[0] || defaultSshId;
          const socket = this.sockets.get(id);
          if (!socket) return failStream(call, Status.NOT_FOUND, `unset ssh forward key ${id}`);
          forwardAgentCall(call, socket, id);
        },
      },
    );
  }

  /** Stop the private agents this provider started. Forwarded user agents are left alone. */
  async close(): Promise<void> {
    await Promise.allSettled(this.owned.splice(0).map((a) => a.close()));
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }
}

type PathSource = { kind: 'socket'; path: string } | { kind: 'keys'; keys: string[] };

/** Decide what a spec's paths are, checking each exists and is readable. */
async function classifyPaths(id: string, paths: readonly string[], env: NodeJS.ProcessEnv): Promise<PathSource> {
  if (paths.length === 0 || (paths.length === 1 && paths[0] === '')) {
    const sock = env.SSH_AUTH_SOCK;
    if (!sock) throw new BuildkitError('invalid-argument', `ssh id ${id}: no agent socket or key files given and SSH_AUTH_SOCK is not set`);
    paths = [sock];
  }
  let socket: string | undefined;
  const keys: string[] = [];
  for (const p of paths) {
    let stat: fs.Stats;
    try {
      stat = await fs.promises.stat(p);
    } catch (err) {
      throw new BuildkitError(BuildkitError.from(err).code, `ssh id ${id}: cannot use ${p} (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    if (stat.isSocket()) {
      if (socket !== undefined || paths.length > 1) throw new BuildkitError('invalid-argument', `ssh id ${id}: give one agent socket, or key files, not both or several sockets`);
      socket = p;
      continue;
    }
    if (!stat.isFile()) throw new BuildkitError('invalid-argument', `ssh id ${id}: ${p} is neither an agent socket nor a key file`);
    try {
      await fs.promises.access(p, fs.constants.R_OK);
    } catch (err) {
      throw new BuildkitError('permission-denied', `ssh id ${id}: key file ${p} is not readable (${(err as NodeJS.ErrnoException).code ?? String(err)})`, { cause: err });
    }
    keys.push(p);
  }
  return socket !== undefined ? { kind: 'socket', path: socket } : { kind: 'keys', keys };
}

/** Connect once to an agent socket, so a stale socket fails here rather than mid-build. */
function probeSocket(id: string, socket: string, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const conn = net.createConnection(socket);
    const done = (err?: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      conn.destroy();
      if (err) reject(err);
      else resolve();
    };
    const onAbort = () => done(new BuildkitError('cancelled', `checking the agent socket of ssh id ${id} was aborted`));
    const timer = setTimeout(() => done(new BuildkitError('unavailable', `ssh id ${id}: agent socket ${socket} did not accept a connection`)), 2_000);
    signal?.addEventListener('abort', onAbort, { once: true });
    conn.once('connect', () => done());
    conn.once('error', (e: NodeJS.ErrnoException) =>
      done(new BuildkitError('unavailable', `ssh id ${id}: cannot connect to agent socket ${socket} (${e.code ?? e.message})`, { cause: e })));
  });
}
