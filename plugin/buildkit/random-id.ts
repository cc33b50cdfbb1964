import { randomBytes } from 'node:crypto';

/**
 * 128 random bits in lowercase base-36 (25 characters, like BuildKit's own
 * IDs). Used for session IDs, which are bearer capabilities on the daemon and
 * must be unguessable, and for build refs, which must be unique. Never contains `:`
 * (the daemon strips a `prefix:` from session IDs on lookup).
 */
export function randomId(): string {
  return BigInt('0x' + randomBytes(16).toString('hex')).toString(36).padStart(25, '0');
}
