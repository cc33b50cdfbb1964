/**
 * Values that must never appear in messages (session IDs, secret values,
 * registry credentials). The daemon quotes session IDs in its errors ("no
 * active session for <id>") and BuildKit redacts nothing a build prints, so
 * every output path of ours (BuildkitError messages, progress in every mode,
 * task logs, metadata files) is scrubbed against this registry.
 */
const secrets = new Set<string>();
/** Bound on remembered values, so a long-lived process does not grow without end. */
const maxRemembered = 10_000;
/** The values longest first, rebuilt when one is added. */
let ordered: string[] = [];
/**
 * Shorter values are not remembered: they would match ordinary text (a
 * secret "true" would blank every boolean in a log), and a short value is
 * no secret worth the name.
 */
export const minRedactedLength = 8;

/**
 * Remember `value` as something to scrub from messages. A multi-line value
 * is also remembered line by line, because progress is redacted one line at
 * a time: a private key echoed by a build arrives as separate lines.
 */
export function registerSecret(value: string): void {
  remember(value);
  if (/[\r\n]/.test(value)) for (const line of value.split(/\r?\n/)) remember(line.trim());
}

function remember(value: string): void {
  if (value.length < minRedactedLength || secrets.has(value)) return;
  if (secrets.size >= maxRemembered) secrets.delete(secrets.values().next().value as string);
  secrets.add(value);
  ordered = [...secrets].sort((a, b) => b.length - a.length);
}

/** `text` with every registered value replaced by `<redacted>` (longest values first, so a value containing another is scrubbed whole). */
export function redact(text: string): string {
  if (secrets.size === 0) return text;
  let out = text;
  for (const s of ordered) if (out.includes(s)) out = out.split(s).join('<redacted>');
  return out;
}

/**
 * A copy of a JSON-like value with every string (keys included) redacted.
 * Files are redacted value by value rather than as serialized text, so the
 * result stays valid JSON whatever a secret looks like.
 */
export function redactDeep<T>(value: T): T {
  if (typeof value === 'string') return redact(value) as T;
  if (Array.isArray(value)) return value.map((v) => redactDeep(v)) as T;
  if (value && typeof value === 'object' && Object.getPrototypeOf(value) === Object.prototype) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [redact(k), redactDeep(v)])) as T;
  }
  return value;
}
