import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { DockerEndpoint } from './builder-address';
import { upgradeToH2c } from './http-upgrade';

/**
 * A private unix socket that forwards every connection to a Docker engine's
 * `POST /grpc` h2c upgrade. grpc-js cannot take an already-connected duplex
 * as a client transport, so it dials this socket instead and each connection
 * becomes one upgraded Engine API connection.
 */
export class DockerGrpcProxy {
  private constructor(
    private readonly server: net.Server,
    private readonly dir: string,
    /** Path of the proxy socket; dial it as `unix://<path>`. */
    readonly socketPath: string,
    private readonly sockets: Set<net.Socket>,
  ) {}

  /** Start a proxy for `endpoint` in a fresh private directory. */
  static async start(endpoint: DockerEndpoint): Promise<DockerGrpcProxy> {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'nxbk-'));
    await fs.chmod(dir, 0o700);
    const socketPath = path.join(dir, 'grpc.sock');
    const sockets = new Set<net.Socket>();
    const track = (s: net.Socket) => {
      sockets.add(s);
      s.once('close', () => sockets.delete(s));
    };
    const server = net.createServer((client) => {
      track(client);
      client.pause();
      client.on('error', () => client.destroy());
      upgradeToH2c(endpoint, '/grpc', []).then(
        (upstream) => {
          track(upstream);
          upstream.on('error', () => client.destroy());
          client.on('close', () => upstream.destroy());
          upstream.on('close', () => client.destroy());
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
          upstream.resume();
        },
        () => client.destroy(),
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(socketPath, () => {
        server.off('error', reject);
        resolve();
      });
    });
    return new DockerGrpcProxy(server, dir, socketPath, sockets);
  }

  /** Stop listening, cut every forwarded connection and remove the socket. */
  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}
