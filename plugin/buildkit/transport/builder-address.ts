import { BuildkitError } from '../errors';

/** TLS material for a `tcp://` builder, as file paths (read when connecting). */
export interface TlsFiles {
  /** CA bundle that signs the daemon's certificate. */
  caFile?: string;
  /** Client certificate for mutual TLS. */
  certFile?: string;
  /** Client key for mutual TLS. */
  keyFile?: string;
  /** Name to verify the daemon's certificate against (defaults to the host). */
  serverName?: string;
}

/** A parsed builder address: where BuildKit's Control API is reached. */
export type BuilderAddress =
  /** A standalone buildkitd on a unix socket. */
  | { kind: 'unix'; path: string; display: string }
  /** A standalone buildkitd over TCP, optionally with (m)TLS. */
  | { kind: 'tcp'; host: string; port: number; tls?: TlsFiles; display: string }
  /** A Docker engine's embedded BuildKit, reached through the Engine API (`POST /grpc`, `POST /session`). */
  | { kind: 'docker'; endpoint: DockerEndpoint; display: string };

/** How to reach a Docker Engine API. */
export type DockerEndpoint = { socketPath: string } | { host: string; port: number };

/** The Docker engine socket used when neither an address nor DOCKER_HOST is given. */
export const defaultDockerSocket = '/var/run/docker.sock';
/** The standalone buildkitd socket used as the last resort. */
export const defaultBuildkitdAddress = 'unix:///run/buildkit/buildkitd.sock';

/**
 * Parse a builder address. Accepted forms:
 * `unix:///path`, `tcp://host:port`, `docker://` (default Docker socket),
 * `docker:///path/to/docker.sock`, `docker+unix:///path`, `docker+tcp://host:port`.
 */
export function parseBuilderAddress(address: string, tls?: TlsFiles): BuilderAddress {
  const fail = (why: string) => new BuildkitError('invalid-argument', `invalid builder address "${address}": ${why}`);
  const match = /^([a-z+]+):\/\/(.*)$/.exec(address.trim());
  if (!match) throw fail('expected unix://, tcp:// or docker://');
  const scheme = match[1]!;
  const rest = match[2]!;
  switch (scheme) {
    case 'unix':
      if (!rest.startsWith('/')) throw fail('a unix socket path must be absolute (unix:///path)');
      return { kind: 'unix', path: rest, display: address };
    case 'tcp': {
      const { host, port } = parseHostPort(rest, fail);
      return { kind: 'tcp', host, port, ...(tls ? { tls } : {}), display: address };
    }
    case 'docker':
    case 'docker+unix': {
      const socketPath = rest === '' ? defaultDockerSocket : rest;
      if (!socketPath.startsWith('/')) throw fail('a Docker socket path must be absolute (docker:///path)');
      return { kind: 'docker', endpoint: { socketPath }, display: `docker://${socketPath}` };
    }
    case 'docker+tcp': {
      const { host, port } = parseHostPort(rest, fail);
      return { kind: 'docker', endpoint: { host, port }, display: address };
    }
    default:
      throw fail(`unknown scheme "${scheme}"`);
  }
}

/** Read a DOCKER_HOST value (`unix://…` or `tcp://…`) as a Docker engine address. */
export function dockerHostAddress(dockerHost: string): BuilderAddress {
  if (dockerHost.startsWith('unix://')) return parseBuilderAddress(`docker://${dockerHost.slice('unix://'.length)}`);
  if (dockerHost.startsWith('tcp://')) return parseBuilderAddress(`docker+tcp://${dockerHost.slice('tcp://'.length)}`);
  throw new BuildkitError('invalid-argument', `DOCKER_HOST "${dockerHost}" is not supported: expected unix:// or tcp://`);
}

function parseHostPort(rest: string, fail: (why: string) => Error): { host: string; port: number } {
  const m = /^(\[[^\]]+\]|[^:/]+):(\d+)\/?$/.exec(rest);
  if (!m) throw fail('expected host:port');
  const port = Number(m[2]);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw fail(`port ${m[2]} is out of range`);
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port };
}
