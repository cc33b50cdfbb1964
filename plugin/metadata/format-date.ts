import { BuildkitError } from '../buildkit/foundation';

/**
 * Format a date for an image tag with a small token language, always in UTC
 * so a tag does not depend on the machine's time zone:
 * `YYYY` `YY` `MM` `DD` `HH` `mm` `ss` `SSS`; digits and `.` `_` `-` are
 * copied. Any other letter is refused, so a typo like `yyyy` fails instead
 * of appearing in a tag. (A full date library would be overkill for eight
 * tokens.)
 */
export function formatDate(date: Date, format: string): string {
  if (Number.isNaN(date.getTime())) throw new BuildkitError('invalid-argument', 'cannot format an invalid date');
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  const tokens: Record<string, () => string> = {
    YYYY: () => pad(date.getUTCFullYear(), 4),
    YY: () => pad(date.getUTCFullYear() % 100),
    MM: () => pad(date.getUTCMonth() + 1),
    DD: () => pad(date.getUTCDate()),
    HH: () => pad(date.getUTCHours()),
    mm: () => pad(date.getUTCMinutes()),
    ss: () => pad(date.getUTCSeconds()),
    SSS: () => pad(date.getUTCMilliseconds(), 3),
  };
  let out = '';
  for (const piece of format.match(/YYYY|YY|MM|DD|HH|mm|ss|SSS|[^]/g) ?? []) {
    const token = tokens[piece];
    if (token) out += token();
    else if (/^[A-Za-z]/.test(piece)) {
      throw new BuildkitError('invalid-argument', `unknown date token "${piece}" in format "${format}" (use YYYY, YY, MM, DD, HH, mm, ss, SSS)`);
    } else out += piece;
  }
  return out;
}
