import { randomBytes } from 'node:crypto';

/**
 * A fresh, unguessable session ID: 128 random bits in lowercase base-36
 * (25 characters, like BuildKit's own IDs). A session ID is a bearer
 * capability on the daemon (any solve that names it can use the session), so
 * it must never be predictable and never contain `:` (the daemon strips a
 * `prefix:` on lookup).
 */
export function newSessionId(): string {
  const n = BigInt('0x' + randomBytes(16).toString('hex'));
  return n.toString(36).padStart(25, '0');
}
