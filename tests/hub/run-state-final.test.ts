import { describe, expect, it } from 'vitest';
import { createRun, finishAttempt, type AttemptOutcome } from '../../electron/hub/run-state.js';
import type { Run } from '../../electron/hub/model.js';

function queuedRun(retries: number): Run {
  return createRun({
    id: 'r1', jobId: 'j1', jobName: 'job', taskId: 't1', taskVersion: 1, trigger: 'manual',
    config: {}, tags: [], timeoutSec: null, retries, retryDelaySec: 5, now: 1000,
  });
}

function failed(at: number, extra: Partial<AttemptOutcome> = {}): AttemptOutcome {
  return { status: 'failed', exitCode: 1, signal: null, error: 'boom', result: null, logTruncated: false, at, ...extra };
}

describe('final attempt outcomes', () => {
  it('clear the waiting reason of a retry', () => {
    const retried = finishAttempt(queuedRun(1), failed(2000));
    if (!retried) throw new Error('not retried');

    const final = finishAttempt(retried, failed(9000, { error: 'its task was deleted' }));

    expect(retried.waitingReason).toBe('retry 2 of 2 after failed');
    expect(final?.status).toBe('failed');
    expect(final?.waitingReason).toBeNull();
    expect(final?.notBefore).toBeNull();
  });

  it.each([
    ['failed', failed(2000, { noRetry: true })],
    ['lost', failed(2000, { status: 'lost', noRetry: true })],
  ] as const)('end a %s attempt marked noRetry', (status, outcome) => {
    const final = finishAttempt(queuedRun(3), outcome);

    expect(final?.status).toBe(status);
    expect(final?.attempt).toBe(1);
    expect(final?.finishedAt).toBe(2000);
  });
});
