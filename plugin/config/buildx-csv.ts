/**
 * The comma-separated `key=value` strings of buildx flags (`--cache-to
 * type=registry,ref=…,mode=max`, `--secret id=npm,src=…`, `-o type=local,dest=…`),
 * read the way buildx reads them: one CSV record whose fields are split at
 * their first `=`, keys compared without case. A field that holds a comma is
 * quoted (`"dest=a,b"`), and `""` inside quotes is one `"`.
 */

/** One field of a buildx CSV string: the key in lower case, and the value as written. */
export interface CsvPair {
  key: string;
  value: string;
}

/** The fields of one CSV record, or the reason it is not one (a stray or unclosed quote). */
export function csvFields(text: string): { fields: string[] } | { problem: string } {
  const fields: string[] = [];
  let at = 0;
  for (;;) {
    if (text[at] === '"') {
      let value = '';
      let i = at + 1;
      for (;;) {
        const close = text.indexOf('"', i);
        if (close < 0) return { problem: `unclosed quote in field ${fields.length + 1}` };
        value += text.slice(i, close);
        if (text[close + 1] === '"') {
          value += '"';
          i = close + 2;
          continue;
        }
        at = close + 1;
        break;
      }
      if (at < text.length && text[at] !== ',') return { problem: `unexpected text after the closing quote of field ${fields.length + 1}` };
      fields.push(value);
    } else {
      const end = text.indexOf(',', at);
      const value = text.slice(at, end < 0 ? text.length : end);
      if (value.includes('"')) return { problem: `quote inside the unquoted field ${JSON.stringify(value)} (quote the whole field)` };
      fields.push(value);
      at = end < 0 ? text.length : end;
    }
    if (at >= text.length) return { fields };
    at += 1; // the comma
  }
}

/** Every field as a key/value pair, or the first field that is not `key=value`. */
export function csvPairs(text: string): { pairs: CsvPair[] } | { problem: string } {
  const read = csvFields(text);
  if ('problem' in read) return read;
  const pairs: CsvPair[] = [];
  for (const field of read.fields) {
    const eq = field.indexOf('=');
    if (eq <= 0) return { problem: `field ${JSON.stringify(field)} is not key=value` };
    pairs.push({ key: field.slice(0, eq).trim().toLowerCase(), value: field.slice(eq + 1) });
  }
  return { pairs };
}
