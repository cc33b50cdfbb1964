import { describe, expect, test } from 'bun:test';
import { failedTaskLog } from './task-log';

describe('failedTaskLog', () => {
  test('a step error the failure repeats is stated once, by the failure line', () => {
    const log = failedTaskLog(
      ['[bad] #2 [internal] load metadata for r/x', '[bad] #2 ERROR: Internal: could not get registry credentials: helper failed', '[bad] #3 DONE 0.1s'],
      '[bad] failed: bad:image: solve: could not get registry credentials: helper failed',
    );
    expect(log).toBe('[bad] #2 [internal] load metadata for r/x\n[bad] #3 DONE 0.1s\n[bad] failed: bad:image: solve: could not get registry credentials: helper failed\n');
  });

  test('step errors the failure does not repeat stay', () => {
    const log = failedTaskLog(['[bad] #4 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1'], '[bad] failed: bad:image: the run was cancelled');
    expect(log).toBe('[bad] #4 ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1\n[bad] failed: bad:image: the run was cancelled\n');
  });
});
