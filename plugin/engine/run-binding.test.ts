import { describe, expect, test } from 'bun:test';
import { BuildkitError } from '../buildkit/index';
import { RunBinding, type Bound } from './run-binding';
import type { SharedSessions } from './shared-sessions';

/** Enough of SharedSessions to see what the run binding does with it. */
function fakeSessions(name: string) {
  const log: string[] = [];
  const sessions = {
    release: async (id: string) => void log.push(`release ${id}`),
    close: async () => void log.push('close'),
    report: () => [{ localNames: [name], transfer: { diffCopyCalls: 0, filesSent: 0, bytesSent: 0 }, calls: {}, reopened: 0 }],
  };
  return { sessions: sessions as unknown as SharedSessions, log };
}

const unsupported = new BuildkitError('unknown', 'failed to solve: failed to read dockerfile: no access allowed to dir "context"');

describe('RunBinding', () => {
  test('a remembered binding that fails a solve is probed once for all targets, and the new sessions replace the old', async () => {
    const old = fakeSessions('old');
    const fresh = fakeSessions('fresh');
    const binding = new RunBinding('local-sessionid', true, old.sessions);
    const used = binding.current;
    await binding.release('done:image');
    let probes = 0;
    const reprobe = async (): Promise<Bound> => (probes++, { mechanism: 'prefetch', sessions: fresh.sessions });
    const answers = await Promise.all([binding.rebound(used, unsupported, reprobe), binding.rebound(used, unsupported, reprobe)]);
    expect(answers).toEqual([true, true]);
    expect(probes).toBe(1);
    expect(binding.current.mechanism).toBe('prefetch');
    expect(binding.current.sessions).toBe(fresh.sessions);
    expect(old.log).toEqual(['release done:image', 'close']);
    expect(fresh.log).toEqual(['release done:image']);
    // A late failure of an attempt that still used the old binding: made again with the new one, no second probe.
    expect(await binding.rebound(used, unsupported, reprobe)).toBe(true);
    expect(probes).toBe(1);
    expect(binding.report().map((r) => r.localNames[0])).toEqual(['old', 'fresh']);
  });

  test('a probe that confirms the remembered binding makes the failure a real one', async () => {
    const binding = new RunBinding('frontend-inputs', true, fakeSessions('old').sessions);
    expect(await binding.rebound(binding.current, unsupported, async () => undefined)).toBe(false);
    expect(binding.current.mechanism).toBe('frontend-inputs');
  });

  test('a probed binding, or a failure of another kind, is never probed again', async () => {
    let probes = 0;
    const reprobe = async (): Promise<Bound> => (probes++, { mechanism: 'prefetch', sessions: fakeSessions('x').sessions });
    const probed = new RunBinding('local-sessionid', false, fakeSessions('old').sessions);
    expect(await probed.rebound(probed.current, unsupported, reprobe)).toBe(false);
    const remembered = new RunBinding('local-sessionid', true, fakeSessions('old').sessions);
    expect(await remembered.rebound(remembered.current, new BuildkitError('unknown', 'process "/bin/sh -c false" did not complete successfully: exit code: 1'), reprobe)).toBe(false);
    expect(await remembered.rebound(remembered.current, new BuildkitError('unavailable', 'cannot reach the builder (socket not found)'), reprobe)).toBe(false);
    expect(probes).toBe(0);
  });

  test('a probe that fails is asked again by the next failed attempt', async () => {
    const binding = new RunBinding('local-sessionid', true, fakeSessions('old').sessions);
    const used = binding.current;
    await expect(binding.rebound(used, unsupported, async () => { throw new BuildkitError('unavailable', 'daemon restarting'); })).rejects.toThrow(/daemon restarting/);
    expect(await binding.rebound(used, unsupported, async () => ({ mechanism: 'frontend-inputs', sessions: fakeSessions('fresh').sessions }))).toBe(true);
    expect(binding.current.mechanism).toBe('frontend-inputs');
  });
});
