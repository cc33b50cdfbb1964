import { describe, expect, test } from 'bun:test';
import { CredentialGate } from './credential-gate';

describe('credential gate', () => {
  test('a target may start only when no conflicting target is active; leaving tells the listeners', () => {
    const gate = new CredentialGate(new Map([['a', new Set(['b'])], ['b', new Set(['a'])]]));
    let changes = 0;
    gate.onChange(() => changes++);
    gate.enter('a');
    expect(gate.canStart('b')).toBe(false);
    expect(gate.canStart('c')).toBe(true);
    gate.leave('a');
    expect(changes).toBe(1);
    expect(gate.canStart('b')).toBe(true);
  });

  test('a session is closed only once every solve running when its own ended has ended', async () => {
    const gate = new CredentialGate(new Map());
    const endA = gate.solveStarts();
    const endB = gate.solveStarts();
    let closed = false;
    const held = endA(async () => void (closed = true));
    await Bun.sleep(5);
    expect(closed).toBe(false);
    const laterEnd = gate.solveStarts(); // started after A ended: not waited for
    await endB();
    await held;
    expect(closed).toBe(true);
    await laterEnd();
    await gate.drain();
  });
});
