import type * as grpc from '@grpc/grpc-js';
import { BuildkitError } from '../../errors';
import { registerSecret } from '../../redact';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { Status, statusError } from '../call-status';
import { type RegistryCredentials, runCredentialHelper } from './credential-helper';
import { credentialSource } from './credential-source';
import { type DockerConfig, emptyDockerConfig } from './docker-config';
import { dockerConfigDir, type Environment, loadDockerConfig } from './load-docker-config';
import { TokenAuthority } from './token-authority';
import {
  authServiceDefinition, type CredentialsRequest, type CredentialsResponse, type FetchTokenRequest, type FetchTokenResponse,
  type GetTokenAuthorityRequest, type GetTokenAuthorityResponse, type VerifyTokenAuthorityRequest, type VerifyTokenAuthorityResponse,
} from './wire';

/** How an {@link AuthProvider} finds and fetches credentials. */
export interface AuthProviderOptions {
  /**
   * Environment used to find the config (`DOCKER_CONFIG`, `HOME`) and given
   * to credential helpers, whose `PATH` is where `docker-credential-<name>`
   * is looked up. Default: `process.env`.
   */
  env?: Environment;
  /** Directory holding `config.json`; overrides `DOCKER_CONFIG`/`~/.docker`. */
  configDir?: string;
  /** A credential helper that has not answered after this long fails. Default 10 s. */
  helperTimeoutMs?: number;
  /** Aborting stops running helpers and fails pending requests. */
  signal?: AbortSignal;
}

/** Lifetime of a static registry token handed to the daemon, when the config says nothing (Go provider default). */
const registryTokenExpiresInSeconds = 60;
const defaultHelperTimeoutMs = 10_000;

/**
 * `moby.filesync.v1.Auth`: registry credentials from a Docker config file
 * (`auths`, `credsStore`, `credHelpers`), shared with the daemon when it pulls
 * or pushes (protocol doc §3.6). `Credentials` answers with what the config
 * holds (empty = anonymous). `GetTokenAuthority` answers `UNAVAILABLE`, so the
 * daemon fetches registry tokens itself with those credentials, except for
 * hosts configured with a static `registrytoken`, which is handed out through
 * `FetchToken` under a key per (host, daemon salt). Results, failures included,
 * are cached per host for the provider's lifetime (the daemon asks several
 * times per pull; a broken helper runs once). Every secret handed out is
 * registered for redaction.
 */
export class AuthProvider implements Attachable {
  /** Hosts the daemon asked credentials for, in order (for diagnostics and tests). */
  readonly credentialRequests: string[] = [];
  private readonly env: Environment;
  private readonly helperTimeoutMs: number;
  private readonly abort = new AbortController();
  private readonly cache = new Map<string, Promise<RegistryCredentials | undefined>>();
  private readonly authority = new TokenAuthority();

  /** A provider serving `config` (already loaded); see {@link AuthProvider.fromDockerConfig}. */
  constructor(private readonly config: DockerConfig = emptyDockerConfig, options: Omit<AuthProviderOptions, 'configDir'> = {}) {
    this.env = options.env ?? process.env;
    this.helperTimeoutMs = options.helperTimeoutMs ?? defaultHelperTimeoutMs;
    if (options.signal) {
      if (options.signal.aborted) this.abort.abort();
      else options.signal.addEventListener('abort', () => this.abort.abort(), { once: true, signal: this.abort.signal });
    }
    for (const entry of config.auths) {
      for (const value of [entry.password, entry.identityToken, entry.registryToken]) registerSecret(value);
      if (entry.username || entry.password) registerSecret(Buffer.from(`${entry.username}:${entry.password}`).toString('base64'));
    }
  }

  /**
   * Read the Docker config now (so a malformed file fails before any solve)
   * and serve it. The config is `<configDir>/config.json`, else
   * `$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`, from `env`.
   */
  static async fromDockerConfig(options: AuthProviderOptions = {}): Promise<AuthProvider> {
    const env = options.env ?? process.env;
    const config = await loadDockerConfig(options.configDir ?? dockerConfigDir(env), { signal: options.signal });
    return new AuthProvider(config, { ...options, env });
  }

  /** The credentials the daemon gets for `host` (undefined = anonymous). */
  credentials(host: string): Promise<RegistryCredentials | undefined> {
    let pending = this.cache.get(host);
    if (!pending) {
      pending = this.lookUp(host);
      this.cache.set(host, pending);
    }
    return pending;
  }

  register(registry: SessionServiceRegistry): void {
    registry.addService(authServiceDefinition, {
      Credentials: handler((req: CredentialsRequest) => this.answerCredentials(req.Host ?? '')),
      FetchToken: handler((req: FetchTokenRequest) => this.answerFetchToken(req.Host ?? '')),
      GetTokenAuthority: handler((req: GetTokenAuthorityRequest) => this.answerTokenAuthority(req.Host ?? '', req.Salt)),
      VerifyTokenAuthority: handler((req: VerifyTokenAuthorityRequest) => this.answerVerify(req)),
    });
  }

  /** Stop any credential helper still running; called when the session closes. */
  close(): void {
    this.abort.abort();
  }

  private async answerCredentials(host: string): Promise<CredentialsResponse> {
    this.credentialRequests.push(host);
    try {
      const creds = await this.credentials(host);
      return creds ? { Username: creds.username, Secret: creds.secret } : {};
    } catch (err) {
      // Not UNIMPLEMENTED/UNAVAILABLE: the daemon must report this, not carry on anonymously.
      throw statusError(Status.INTERNAL, `could not get registry credentials: ${BuildkitError.from(err).message}`);
    }
  }

  private answerTokenAuthority(host: string, salt: Uint8Array | undefined): GetTokenAuthorityResponse {
    // UNAVAILABLE = "no client-side tokens": the daemon fetches tokens itself with Credentials.
    if (!this.registryToken(host)) throw statusError(Status.UNAVAILABLE, 'client-side tokens are only used for registry tokens');
    return { PublicKey: this.authority.publicKey(host, salt ?? new Uint8Array()) };
  }

  private answerFetchToken(host: string): FetchTokenResponse {
    const token = this.registryToken(host);
    if (!token) throw statusError(Status.UNAVAILABLE, `no registry token configured for ${host}`);
    return { Token: token, ExpiresIn: registryTokenExpiresInSeconds };
  }

  private answerVerify(req: VerifyTokenAuthorityRequest): VerifyTokenAuthorityResponse {
    const host = req.Host ?? '';
    if (!this.registryToken(host)) throw statusError(Status.UNAVAILABLE, `no registry token configured for ${host}`);
    return { Signed: this.authority.sign(host, req.Salt ?? new Uint8Array(), req.Payload ?? new Uint8Array()) };
  }

  private registryToken(host: string): string | undefined {
    const source = credentialSource(this.config, host);
    return source.kind === 'entry' && source.entry.registryToken ? source.entry.registryToken : undefined;
  }

  private async lookUp(host: string): Promise<RegistryCredentials | undefined> {
    const source = credentialSource(this.config, host);
    if (source.kind === 'none') return undefined;
    if (source.kind === 'entry') {
      const { username, password, identityToken } = source.entry;
      if (identityToken) return { username: '', secret: identityToken };
      return password || username ? { username, secret: password } : undefined;
    }
    const creds = await runCredentialHelper(source.helper, source.serverUrl, {
      env: this.env,
      timeoutMs: this.helperTimeoutMs,
      signal: this.abort.signal,
    });
    if (creds) registerSecret(creds.secret);
    return creds;
  }
}

/** Adapt a (possibly async) function to a grpc-js unary handler; thrown status errors become the call's status. */
function handler<Req, Res>(fn: (req: Req) => Res | Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    Promise.resolve()
      .then(() => fn(call.request))
      .then(
        (res) => callback(null, res),
        (err: unknown) => callback(isStatus(err) ? err : statusError(Status.INTERNAL, BuildkitError.from(err).message)),
      );
  };
}

function isStatus(err: unknown): err is grpc.ServiceError {
  return err instanceof Error && typeof (err as grpc.ServiceError).code === 'number';
}
