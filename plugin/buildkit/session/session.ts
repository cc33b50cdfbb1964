import * as grpc from '@grpc/grpc-js';
import type { Duplex } from 'node:stream';
import { BuildkitError } from '../errors';
import type { Attachable, SessionServiceRegistry } from './attachable';
import { healthAttachable } from './health';
import type { SessionHeaders } from './session-headers';
import { newSessionId } from './session-id';
import { fixStreamWindows } from './stream-window-fix';

/**
 * Opens the byte stream a session runs on: a `Control/Session` tunnel or a
 * Docker `/session` upgrade. The session serves HTTP/2 on what it returns.
 */
export type SessionDialer = (headers: SessionHeaders, signal: AbortSignal) => Promise<Duplex>;

/** How a session presents itself and what it serves. */
export interface SessionOptions {
  /** Protocol providers served inside the session (health is always added). */
  attachables?: readonly Attachable[];
  /**
   * Scopes the daemon's reuse of earlier transfers of the same directories.
   * Must be printable ASCII (older daemons corrupt other bytes in headers).
   */
  sharedKey?: string;
  /** Informational name shown by old daemons; never carries secrets. */
  name?: string;
}

type SessionState = 'new' | 'opening' | 'open' | 'closed';

/** How long close() waits for the daemon to end the tunnel after our half-close. */
const closeGraceMs = 2_000;
const maxMessageBytes = 16 * 1024 * 1024;
/**
 * Bun's HTTP/2 mishandles window raises the daemon makes while a transfer
 * runs (see stream-window-fix.ts). Node's applies them as RFC 9113 says; the
 * fix would be exact there too, but costs CPU for nothing.
 */
const windowFixNeeded = typeof process.versions.bun === 'string';

/**
 * A BuildKit session with its own lifecycle, independent of any solve: it is
 * opened on a dialer, serves its attachables to the daemon (the client is the
 * gRPC *server* inside the tunnel), and is closed by its owner. Solves refer
 * to it by `id`.
 *
 * The ID is a bearer capability on the daemon, so it is never printed: the
 * session renders as `Session(<redacted>)` in logs, JSON and inspection.
 */
export class Session implements AsyncDisposable {
  /** The session ID to put in `SolveRequest.Session` or `local.session`. Secret: never log it. */
  readonly id: string = newSessionId();
  readonly sharedKey: string;
  readonly name: string;
  private readonly attachables: readonly Attachable[];
  private readonly server = new grpc.Server({
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
  });
  private readonly methodPaths: string[] = [];
  private readonly callCounts = new Map<string, number>();
  private injector: grpc.ConnectionInjector | undefined;
  private connection: Duplex | undefined;
  private state: SessionState = 'new';
  private markDone!: () => void;
  /** Resolves once the session's connection has ended, whoever ended it. */
  readonly done: Promise<void> = new Promise((resolve) => (this.markDone = resolve));

  constructor(options: SessionOptions = {}) {
    this.sharedKey = options.sharedKey ?? '';
    this.name = options.name ?? 'nx-buildkit';
    if (!/^[\x20-\x7e]*$/.test(this.sharedKey)) {
      throw new BuildkitError('invalid-argument', 'session shared key must be printable ASCII');
    }
    if (!/^[\x20-\x7e]*$/.test(this.name)) throw new BuildkitError('invalid-argument', 'session name must be printable ASCII');
    this.attachables = [healthAttachable, ...(options.attachables ?? [])];
    const registry: SessionServiceRegistry = {
      addService: (definition, implementation) => {
        // Count every call the daemon makes, per method, for observability and isolation checks.
        const counted: grpc.UntypedServiceImplementation = {};
        for (const [name, handler] of Object.entries(implementation)) {
          const path = definition[name]?.path ?? name;
          counted[name] = ((...args: unknown[]) => {
            this.callCounts.set(path, (this.callCounts.get(path) ?? 0) + 1);
            return (handler as (...a: unknown[]) => unknown)(...args);
          }) as grpc.UntypedHandleCall;
        }
        this.server.addService(definition, counted);
        for (const method of Object.values(definition)) this.methodPaths.push(method.path);
      },
    };
    for (const attachable of this.attachables) attachable.register(registry);
  }

  /** Every method path this session serves, as advertised to the daemon. */
  get methods(): readonly string[] {
    return this.methodPaths;
  }

  /** How many calls the daemon made to each method of this session (health checks included). */
  get calls(): ReadonlyMap<string, number> {
    return this.callCounts;
  }

  /** True between a successful open() and the end of the connection. */
  get isOpen(): boolean {
    return this.state === 'open';
  }

  /** The headers the session announces when it opens. */
  get headers(): SessionHeaders {
    return { id: this.id, sharedKey: this.sharedKey, name: this.name, methods: this.methodPaths };
  }

  /**
   * Dial the daemon and start serving. Resolves once the connection is up;
   * the session then runs until close() or until the daemon drops it.
   */
  async open(dialer: SessionDialer, options: { signal?: AbortSignal } = {}): Promise<void> {
    if (this.state !== 'new') throw new BuildkitError('failed-precondition', `session cannot be opened: it is ${this.state}`);
    this.state = 'opening';
    const signal = options.signal ?? new AbortController().signal;
    let connection: Duplex;
    try {
      connection = await dialer(this.headers, signal);
    } catch (err) {
      await this.shutdown();
      throw BuildkitError.from(err, 'cannot open session');
    }
    if (this.state !== 'opening') {
      connection.destroy();
      throw new BuildkitError('cancelled', 'session was closed while opening');
    }
    if (windowFixNeeded) connection = fixStreamWindows(connection);
    this.connection = connection;
    connection.once('close', () => void this.shutdown());
    connection.on('error', () => connection.destroy());
    this.injector = this.server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    this.injector.injectConnection(connection);
    this.state = 'open';
  }

  /**
   * Close the session: half-close the connection (what the daemon expects),
   * give it a moment to end its side, then tear everything down. Idempotent.
   */
  async close(): Promise<void> {
    const connection = this.connection;
    if (this.state === 'open' && connection && !connection.destroyed) {
      connection.end();
      await Promise.race([this.done, new Promise((r) => setTimeout(r, closeGraceMs).unref?.())]);
    }
    await this.shutdown();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async shutdown(): Promise<void> {
    if (this.state === 'closed') return this.done;
    this.state = 'closed';
    this.connection?.destroy();
    this.injector?.destroy();
    this.server.forceShutdown();
    await Promise.allSettled(this.attachables.map((a) => a.close?.()));
    this.markDone();
  }

  toString(): string {
    return 'Session(<redacted>)';
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
