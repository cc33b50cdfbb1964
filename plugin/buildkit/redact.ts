/**
 * Values that must never appear in messages (session IDs, later secret
 * values). The daemon quotes session IDs in its errors ("no active session
 * for <id>"); every BuildkitError message is scrubbed against this registry.
 */
const secrets = new Set<string>();
/** Bound on remembered values, so a long-lived process does not grow without end. */
const maxRemembered = 10_000;

/** Remember `value` (at least 8 characters) as something to scrub from messages. */
export function registerSecret(value: string): void {
  if (value.length < 8) return;
  if (secrets.size >= maxRemembered) secrets.delete(secrets.values().next().value as string);
  secrets.add(value);
}

/** `text` with every registered value replaced by `<redacted>`. */
export function redact(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of secrets) if (out.includes(s)) out = out.split(s).join('<redacted>');
  return out;
}
