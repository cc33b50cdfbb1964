import { randomId } from '../random-id';
import { registerSecret } from '../redact';

/** A fresh, unguessable session ID (secret: never log it). */
export function newSessionId(): string {
  const id = randomId();
  // The daemon quotes session IDs in errors; keep them out of every message.
  registerSecret(id);
  return id;
}
