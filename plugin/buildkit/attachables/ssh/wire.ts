import type { moby } from '../../gen/types';
import { messageCodec } from '../../protocol/root';

/** Wire shapes of `moby.sshforward.v1.SSH` (plain objects, see gen/types.ts). */
export type CheckAgentRequest = moby.sshforward.v1.CheckAgentRequest;
export type CheckAgentResponse = moby.sshforward.v1.CheckAgentResponse;

/** Codecs of the SSH service's CheckAgent call (ForwardAgent carries raw bytes). */
export const codecs = {
  checkAgentRequest: messageCodec<CheckAgentRequest>('moby.sshforward.v1.CheckAgentRequest'),
  checkAgentResponse: messageCodec<CheckAgentResponse>('moby.sshforward.v1.CheckAgentResponse'),
};
