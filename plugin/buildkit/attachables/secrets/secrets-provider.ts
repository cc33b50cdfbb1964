import type * as grpc from '@grpc/grpc-js';
import { BuildkitError } from '../../errors';
import { registerSecret } from '../../redact';
import type { Attachable, SessionServiceRegistry } from '../../session/attachable';
import { statusError, Status } from '../call-status';
import { checkSecretSize, readSecretSource, type SecretSpec } from './secret-source';
import { codecs, type GetSecretRequest, type GetSecretResponse } from './wire';

const requestCodec = codecs.getSecretRequest;
const responseCodec = codecs.getSecretResponse;

/**
 * `moby.buildkit.secrets.v1.Secrets`: serves build secrets by ID. Every
 * value is read when the provider is made, so a missing file or unset
 * variable fails before any solve instead of in the middle of one.
 *
 * Unknown IDs are answered NOT_FOUND: the daemon then leaves an optional
 * secret unmounted, fails a required one with "secret <id> not found", and
 * (with session groups) asks the next session. Values are registered for
 * redaction, so they are scrubbed from every BuildkitError message, and the
 * provider never prints them (inspection shows IDs only).
 */
export class SecretsProvider implements Attachable {
  readonly #values: ReadonlyMap<string, Buffer>;

  /** In-memory values by ID (strings are UTF-8). For files and variables use {@link SecretsProvider.load}. */
  constructor(values: Readonly<Record<string, string | Uint8Array>> | ReadonlyMap<string, string | Uint8Array>) {
    const entries = values instanceof Map ? [...values.entries()] : Object.entries(values);
    const map = new Map<string, Buffer>();
    for (const [id, value] of entries) {
      checkId(id);
      const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value);
      checkSecretSize(id, bytes.length, 'an in-memory value');
      map.set(id, bytes);
      rememberForRedaction(bytes);
    }
    this.#values = map;
  }

  /**
   * Read every secret's source up front and fail on the first that cannot be
   * read (missing or unreadable file, unset variable, too large, duplicate ID).
   * The error names the secret ID and its source, never a value.
   */
  static async load(specs: readonly SecretSpec[], options: { env?: NodeJS.ProcessEnv; signal?: AbortSignal } = {}): Promise<SecretsProvider> {
    const env = options.env ?? process.env;
    const values = new Map<string, Buffer>();
    for (const spec of specs) {
      checkId(spec.id);
      if (values.has(spec.id)) throw new BuildkitError('invalid-argument', `secret "${spec.id}" is configured more than once`);
      checkOneSource(spec);
      values.set(spec.id, await readSecretSource(spec, env, options.signal));
    }
    return new SecretsProvider(values);
  }

  /** The IDs this provider serves. */
  get ids(): string[] {
    return [...this.#values.keys()];
  }

  register(registry: SessionServiceRegistry): void {
    registry.addService(
      {
        GetSecret: {
          path: '/moby.buildkit.secrets.v1.Secrets/GetSecret',
          requestStream: false,
          responseStream: false,
          requestSerialize: requestCodec.serialize,
          requestDeserialize: requestCodec.deserialize,
          responseSerialize: responseCodec.serialize,
          responseDeserialize: responseCodec.deserialize,
        },
      },
      {
        GetSecret: (call: grpc.ServerUnaryCall<GetSecretRequest, GetSecretResponse>, callback: grpc.sendUnaryData<GetSecretResponse>) => {
          const id = call.request.ID ?? '';
          const value = this.#values.get(id);
          if (!value) return callback(statusError(Status.NOT_FOUND, `secret ${id} not found`));
          callback(null, { data: value });
        },
      },
    );
  }

  toString(): string {
    return `SecretsProvider(${this.ids.join(', ')})`;
  }

  toJSON(): string {
    return this.toString();
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

function checkId(id: string): void {
  if (typeof id !== 'string' || id === '') throw new BuildkitError('invalid-argument', 'a secret needs a non-empty id');
}

function checkOneSource(spec: SecretSpec): void {
  const sources = (['file', 'env', 'value'] as const).filter((k) => k in spec && (spec as Record<string, unknown>)[k] !== undefined);
  if (sources.length !== 1) {
    throw new BuildkitError('invalid-argument', `secret "${spec.id}" needs exactly one source (file, env or value), got ${sources.length === 0 ? 'none' : sources.join(' and ')}`);
  }
}

/**
 * Scrub the value, and the value without its trailing newline (how a file's
 * secret usually appears once echoed), from error messages.
 */
function rememberForRedaction(bytes: Buffer): void {
  const text = bytes.toString('utf8');
  registerSecret(text);
  const trimmed = text.replace(/\r?\n$/, '');
  if (trimmed !== text) registerSecret(trimmed);
}
