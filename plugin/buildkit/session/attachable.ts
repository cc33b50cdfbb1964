import type * as grpc from '@grpc/grpc-js';

/** Where an attachable registers the gRPC services it serves inside a session. */
export interface SessionServiceRegistry {
  /**
   * Serve `definition` with `implementation`. Every method path is advertised
   * to the daemon in the session's `X-Docker-Expose-Session-Grpc-Method` headers.
   */
  addService(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): void;
}

/**
 * A provider of one session protocol (FileSync, FileSend, Secrets, SSH, Auth…).
 * The session knows nothing about concrete attachables; it only asks each one
 * to register its services.
 */
export interface Attachable {
  /** Register this attachable's gRPC services. Called once, before the session opens. */
  register(registry: SessionServiceRegistry): void;
  /** Release what the attachable holds; called when its session closes. */
  close?(): void | Promise<void>;
}
