import type { HeaderField } from '../transport/http-upgrade';

/** What a session announces to the daemon when it opens. */
export interface SessionHeaders {
  /** The session ID (secret: never log it). */
  id: string;
  /** Scopes reuse of previously transferred directories on the daemon. */
  sharedKey: string;
  /** Informational name (read, then ignored, by daemons up to v0.15). */
  name: string;
  /** Every gRPC method path the session serves, one header value each. */
  methods: readonly string[];
}

/**
 * The session headers as ordered fields. The daemon checks FileSync/FileSend
 * support against the method list, which must arrive as one header field per
 * method, never as one comma-joined value.
 */
export function sessionHeaderFields(h: SessionHeaders): HeaderField[] {
  return [
    ['X-Docker-Expose-Session-Uuid', h.id],
    ['X-Docker-Expose-Session-Name', h.name],
    ['X-Docker-Expose-Session-Sharedkey', h.sharedKey],
    ...h.methods.map((m): HeaderField => ['X-Docker-Expose-Session-Grpc-Method', m]),
  ];
}
