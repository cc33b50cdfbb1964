import type * as grpc from '@grpc/grpc-js';
import type { moby } from '../../gen/types';
import { messageCodec } from '../../protocol/root';

/** Wire shapes of `moby.filesync.v1.Auth` (plain objects, see gen/types.ts). */
export type CredentialsRequest = moby.filesync.v1.CredentialsRequest;
export type CredentialsResponse = moby.filesync.v1.CredentialsResponse;
export type FetchTokenRequest = moby.filesync.v1.FetchTokenRequest;
export type FetchTokenResponse = moby.filesync.v1.FetchTokenResponse;
export type GetTokenAuthorityRequest = moby.filesync.v1.GetTokenAuthorityRequest;
export type GetTokenAuthorityResponse = moby.filesync.v1.GetTokenAuthorityResponse;
export type VerifyTokenAuthorityRequest = moby.filesync.v1.VerifyTokenAuthorityRequest;
export type VerifyTokenAuthorityResponse = moby.filesync.v1.VerifyTokenAuthorityResponse;

/** A unary method of the Auth service with plain-object (de)serializers. */
function unary(name: string, request: string, response: string): grpc.MethodDefinition<object, object> {
  const req = messageCodec<object>(`moby.filesync.v1.${request}`);
  const res = messageCodec<object>(`moby.filesync.v1.${response}`);
  return {
    // The package is moby.filesync.v1, not .auth: an upstream quirk that is part of the wire path (protocol doc §3.6).
    path: `/moby.filesync.v1.Auth/${name}`,
    requestStream: false,
    responseStream: false,
    requestSerialize: req.serialize,
    requestDeserialize: req.deserialize,
    responseSerialize: res.serialize,
    responseDeserialize: res.deserialize,
  };
}

/** The grpc-js service definition of `moby.filesync.v1.Auth`. */
export const authServiceDefinition = {
  Credentials: unary('Credentials', 'CredentialsRequest', 'CredentialsResponse'),
  FetchToken: unary('FetchToken', 'FetchTokenRequest', 'FetchTokenResponse'),
  GetTokenAuthority: unary('GetTokenAuthority', 'GetTokenAuthorityRequest', 'GetTokenAuthorityResponse'),
  VerifyTokenAuthority: unary('VerifyTokenAuthority', 'VerifyTokenAuthorityRequest', 'VerifyTokenAuthorityResponse'),
} satisfies grpc.ServiceDefinition;
