import type { StageResult } from './stage-result';

/** One line of e2e/allowed-skips.txt. */
export interface AllowedSkip {
  pattern: string;
  reason: string;
  line: number;
}

/** Parse e2e/allowed-skips.txt (its format is described at its top); throws naming the first bad line. */
export function parseAllowedSkips(text: string, file = 'e2e/allowed-skips.txt'): AllowedSkip[] {
  const out: AllowedSkip[] = [];
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const at = line.lastIndexOf(' :: ');
    const pattern = at < 0 ? '' : line.slice(0, at).trim();
    const reason = at < 0 ? '' : line.slice(at + 4).trim();
    if (!pattern || !reason) throw new Error(`${file}:${i + 1}: expected "<test name pattern> :: <reason>", got: ${raw}`);
    out.push({ pattern, reason, line: i + 1 });
  });
  return out;
}

/** Whether `name` matches `pattern`, in which `*` stands for any run of characters and everything else for itself. */
export function matchesPattern(pattern: string, name: string): boolean {
  const source = pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*');
  return new RegExp(`^${source}$`, 's').test(name);
}

/**
 * Apply the skip rule to a stage. In the standard run (every local daemon)
 * a skip the allow-list does not name is a failure: it moves from skipped
 * to failed, named. Other runs (NXBK_E2E_BUILDER, NXBK_E2E_DAEMONS) keep
 * their skips, which are reported by name all the same.
 */
export function judgeSkips(result: StageResult, allowed: readonly AllowedSkip[], standardRun: boolean): StageResult {
  if (!standardRun) return result;
  const refused = result.skips.filter((s) => !allowed.some((a) => matchesPattern(a.pattern, s.name)));
  if (refused.length === 0) return result;
  return {
    ...result,
    skipped: result.skipped - refused.length,
    failed: result.failed + refused.length,
    skips: result.skips.filter((s) => !refused.includes(s)),
    problems: [
      ...result.problems,
      ...refused.map((s) => `skipped in the standard run and not in e2e/allowed-skips.txt: ${s.name}${s.reason ? ` (${s.reason})` : ''}`),
    ],
  };
}
