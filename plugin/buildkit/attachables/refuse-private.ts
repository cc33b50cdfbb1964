import type * as grpc from '@grpc/grpc-js';
import type { Attachable, SessionServiceRegistry } from '../session/attachable';
import { rawMethod, Status, statusError, failStream } from './call-status';

/** Methods that carry a build's private material (secrets, SSH agents, registry credentials). */
export const privateMethods = [
  '/moby.buildkit.secrets.v1.Secrets/GetSecret',
  '/moby.sshforward.v1.SSH/CheckAgent',
  '/moby.sshforward.v1.SSH/ForwardAgent',
  '/moby.filesync.v1.Auth/Credentials',
  '/moby.filesync.v1.Auth/FetchToken',
  '/moby.filesync.v1.Auth/GetTokenAuthority',
  '/moby.filesync.v1.Auth/VerifyTokenAuthority',
] as const;

/**
 * For shared sessions, which must never serve private material: answers
 * every secrets, SSH and auth call exactly as an absent service would
 * (UNIMPLEMENTED), but through registered handlers, so the session's call
 * counts show whether the daemon ever asked.
 */
export const refusePrivate: Attachable = {
  register(registry: SessionServiceRegistry) {
    const byService = new Map<string, Record<string, grpc.MethodDefinition<Buffer, Buffer>>>();
    for (const path of privateMethods) {
      const [, service, method] = /^\/(.+)\/([^/]+)$/.exec(path)!;
      const streaming = method === 'ForwardAgent';
      byService.set(service!, { ...byService.get(service!), [method!]: rawMethod(path, streaming, streaming) });
    }
    for (const definition of byService.values()) {
      const implementation: grpc.UntypedServiceImplementation = {};
      for (const [name, def] of Object.entries(definition)) {
        const message = `${def.path} is not served by a shared session`;
        implementation[name] = def.requestStream
          ? (call: grpc.ServerDuplexStream<Buffer, Buffer>) => failStream(call, Status.UNIMPLEMENTED, message)
          : (_call: unknown, callback: grpc.sendUnaryData<Buffer>) => callback(statusError(Status.UNIMPLEMENTED, message));
      }
      registry.addService(definition, implementation);
    }
  },
};
