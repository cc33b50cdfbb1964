import * as grpc from '@grpc/grpc-js';
import fs from 'node:fs/promises';
import net from 'node:net';
import { checkServerIdentity } from 'node:tls';
import { BuildkitError } from '../errors';
// Loaded with gRPC: failed calls' status details are decoded from here on (errors.ts).
import '../errdefs/wire';
import type { BuilderAddress, TlsFiles } from './builder-address';
import { DockerGrpcProxy } from './docker-grpc-proxy';

/** 16 MiB, as the Go client and newer daemons use; old daemons still cap requests at 4 MiB. */
const maxMessageBytes = 16 * 1024 * 1024;

/** An open gRPC channel to a daemon's Control API, plus what it needs to close. */
export interface GrpcChannel extends AsyncDisposable {
  readonly address: BuilderAddress;
  /** The grpc-js client all Control RPCs go through. */
  readonly client: grpc.Client;
  close(): Promise<void>;
}

/**
 * Open a gRPC channel for `address`. grpc-js connects lazily, so this only
 * fails for local problems (unreadable TLS files); reachability is checked by
 * the first call.
 */
export async function openGrpcChannel(address: BuilderAddress): Promise<GrpcChannel> {
  // No keepalive pings: buildkitd keeps grpc-go's default enforcement policy,
  // which answers frequent pings with GOAWAY too_many_pings.
  const options: grpc.ChannelOptions = {
    'grpc.max_receive_message_length': maxMessageBytes,
    'grpc.max_send_message_length': maxMessageBytes,
    'grpc.enable_retries': 0,
    // After a lost connection grpc-js fails every call at once until its next
    // reconnect attempt, with back-off growing to 120 s by default: a daemon
    // that restarted would stay unreachable for minutes. The daemon is local
    // or near; retrying the connection within 2 s costs nothing.
    'grpc.initial_reconnect_backoff_ms': 250,
    'grpc.max_reconnect_backoff_ms': 2_000,
  };
  let proxy: DockerGrpcProxy | undefined;
  let target: string;
  let credentials = grpc.credentials.createInsecure();
  switch (address.kind) {
    case 'unix':
      target = `unix://${address.path}`;
      break;
    case 'tcp':
      target = `${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
      if (address.tls) {
        const byIp = net.isIP(address.host) !== 0 && !address.tls.serverName;
        credentials = await tlsCredentials(address.tls, byIp ? address.host : undefined);
        if (address.tls.serverName) options['grpc.ssl_target_name_override'] = address.tls.serverName;
        // TLS forbids an IP address as server name (SNI), and Bun refuses to
        // send one; send a neutral name instead and verify the certificate
        // against the IP itself (see tlsCredentials).
        else if (byIp) options['grpc.ssl_target_name_override'] = 'buildkitd';
      }
      break;
    case 'docker':
      proxy = await DockerGrpcProxy.start(address.endpoint);
      target = `unix://${proxy.socketPath}`;
      // The Engine routes by path, not by authority; keep it constant.
      options['grpc.default_authority'] = 'localhost';
      break;
  }
  const client = new grpc.Client(target, credentials, options);
  const close = async () => {
    client.close();
    await proxy?.close();
  };
  return { address, client, close, [Symbol.asyncDispose]: close };
}

async function tlsCredentials(tls: TlsFiles, verifyIp?: string): Promise<grpc.ChannelCredentials> {
  const read = async (file: string | undefined, what: string) => {
    if (!file) return null;
    try {
      return await fs.readFile(file);
    } catch (err) {
      throw BuildkitError.from(err, `cannot read TLS ${what} file ${file}`);
    }
  };
  const [ca, cert, key] = await Promise.all([read(tls.caFile, 'CA'), read(tls.certFile, 'certificate'), read(tls.keyFile, 'key')]);
  if ((cert === null) !== (key === null)) {
    throw new BuildkitError('invalid-argument', 'TLS client certificate and key must be given together');
  }
  try {
    return grpc.credentials.createSsl(ca, key, cert, verifyIp ? { checkServerIdentity: (_name, peer) => checkServerIdentity(verifyIp, peer) } : {});
  } catch (err) {
    throw BuildkitError.from(err, 'invalid TLS material');
  }
}
