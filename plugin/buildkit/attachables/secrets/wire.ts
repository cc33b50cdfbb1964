import type { moby } from '../../gen/types';
import { messageCodec } from '../../protocol/root';

/** Wire shapes of `moby.buildkit.secrets.v1.Secrets` (plain objects, see gen/types.ts). */
export type GetSecretRequest = moby.buildkit.secrets.v1.GetSecretRequest;
export type GetSecretResponse = moby.buildkit.secrets.v1.GetSecretResponse;

/** Codecs of the Secrets service messages. */
export const codecs = {
  getSecretRequest: messageCodec<GetSecretRequest>('moby.buildkit.secrets.v1.GetSecretRequest'),
  getSecretResponse: messageCodec<GetSecretResponse>('moby.buildkit.secrets.v1.GetSecretResponse'),
};
