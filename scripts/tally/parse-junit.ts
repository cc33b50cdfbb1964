/** One test case of a JUnit report. */
export interface JunitCase {
  /** The enclosing describe blocks and the test's own name, joined with ` > ` (the file is not part of it). */
  name: string;
  file: string;
  status: 'passed' | 'failed' | 'skipped';
}

/** A JUnit report as `bun test --reporter=junit` writes it. */
export interface JunitReport {
  /** The root element's own counts. */
  totals: { tests: number; failures: number; skipped: number };
  cases: JunitCase[];
}

const unescape = (s: string) =>
  s.replace(/&(#(\d+)|#x([0-9a-f]+)|lt|gt|quot|apos|amp);/gi, (_, all: string, dec?: string, hex?: string) => {
    if (dec) return String.fromCodePoint(Number(dec));
    if (hex) return String.fromCodePoint(parseInt(hex, 16));
    return ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' } as Record<string, string>)[all.toLowerCase()]!;
  });

function attributes(tag: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of tag.matchAll(/([\w:.-]+)="([^"]*)"/g)) out[m[1]!] = unescape(m[2]!);
  return out;
}

function count(attrs: Record<string, string>, key: string): number {
  const value = attrs[key];
  if (value === undefined || !/^\d+$/.test(value)) throw new Error(`<testsuites> has no numeric ${key}="…" (${JSON.stringify(attrs)})`);
  return Number(value);
}

/**
 * Read a JUnit report. Throws when it is not one: no `<testsuites>` root with
 * numeric counts, unbalanced suites, or cases that do not add up to the root's counts.
 */
export function parseJunit(xml: string): JunitReport {
  const root = /<testsuites\b[^>]*>/.exec(xml);
  if (!root) throw new Error('no <testsuites> element');
  const rootAttrs = attributes(root[0]);
  const totals = { tests: count(rootAttrs, 'tests'), failures: count(rootAttrs, 'failures'), skipped: count(rootAttrs, 'skipped') };
  const cases: JunitCase[] = [];
  // The open suites; the outermost one of each file is the file itself.
  const suites: Array<{ name: string; file: string }> = [];
  const tokens = /<testsuite\b([^>]*?)(\/?)>|<\/testsuite>|<testcase\b([^>]*?)(?:\/>|>([\s\S]*?)<\/testcase>)/g;
  for (const m of xml.slice(root.index + root[0].length).matchAll(tokens)) {
    if (m[0].startsWith('</testsuite')) {
      if (!suites.pop()) throw new Error('</testsuite> without <testsuite>');
    } else if (m[0].startsWith('<testsuite')) {
      const attrs = attributes(m[1]!);
      if (m[2] !== '/') suites.push({ name: attrs.name ?? '', file: attrs.file ?? attrs.name ?? '' });
    } else {
      const attrs = attributes(m[3]!);
      const body = m[4] ?? '';
      const status = /<(failure|error)\b/.test(body) ? 'failed' : /<skipped\b/.test(body) ? 'skipped' : 'passed';
      const blocks = suites.slice(1).map((s) => s.name);
      cases.push({ name: [...blocks, attrs.name ?? ''].join(' > '), file: attrs.file ?? suites[0]?.file ?? '', status });
    }
  }
  if (suites.length > 0) throw new Error('a <testsuite> is not closed');
  const failed = cases.filter((c) => c.status === 'failed').length;
  const skipped = cases.filter((c) => c.status === 'skipped').length;
  if (cases.length !== totals.tests || failed !== totals.failures || skipped !== totals.skipped) {
    throw new Error(`its test cases (${cases.length} tests, ${failed} failed, ${skipped} skipped) do not add up to its counts (${totals.tests}, ${totals.failures}, ${totals.skipped})`);
  }
  return { totals, cases };
}
