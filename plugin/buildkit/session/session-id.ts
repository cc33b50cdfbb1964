import { randomId } from '../random-id';

/** A fresh, unguessable session ID (secret: never log it). */
export function newSessionId(): string {
  return randomId();
}
