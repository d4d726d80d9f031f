import { describe, expect, it } from 'vitest';
import { assign, cancelQueued, createRun, finishAttempt, markStarted, unassign, type AttemptOutcome } from '../../electron/hub/run-state.js';
import type { Run } from '../../electron/hub/model.js';

function queuedRun(retries = 0): Run {
  return createRun({
    id: 'r1', jobId: 'j1', jobName: 'job', taskId: 't1', taskVersion: 1, trigger: 'manual',
    config: {}, tags: [], timeoutSec: null, retries, retryDelaySec: 5, now: 1000,
  });
}

function outcome(status: AttemptOutcome['status'], at = 5000): AttemptOutcome {
  return { status, exitCode: status === 'succeeded' ? 0 : 1, signal: null, error: status === 'succeeded' ? null : 'boom', result: null, logTruncated: false, at };
}

function runningOn(agentId: string, retries = 0): Run {
  const assigned = assign(queuedRun(retries), agentId);
  if (!assigned) throw new Error('not assigned');
  const started = markStarted(assigned, 2000);
  if (!started) throw new Error('not started');
  return started;
}

describe('run state transitions', () => {
  it('moves queued to assigned to running', () => {
    const run = runningOn('a');

    expect(run.status).toBe('running');
    expect(run.agentId).toBe('a');
    expect(run.startedAt).toBe(2000);
  });

  it('sets a final status once', () => {
    const finished = finishAttempt(runningOn('a'), outcome('succeeded'));
    if (!finished) throw new Error('not finished');

    expect(finished.status).toBe('succeeded');
    expect(finishAttempt(finished, outcome('failed'))).toBeNull();
    expect(assign(finished, 'b')).toBeNull();
    expect(markStarted(finished, 9000)).toBeNull();
    expect(cancelQueued(finished, 9000)).toBeNull();
  });

  it('retries a failed attempt after the delay', () => {
    const retried = finishAttempt(runningOn('a', 2), outcome('failed', 5000));

    expect(retried?.status).toBe('queued');
    expect(retried?.attempt).toBe(2);
    expect(retried?.notBefore).toBe(10_000);
    expect(retried?.previousAgentIds).toEqual(['a']);
    expect(retried?.agentId).toBeNull();
  });

  it('ends when retries are used up', () => {
    const final = finishAttempt(runningOn('a', 0), outcome('lost'));

    expect(final?.status).toBe('lost');
    expect(final?.finishedAt).toBe(5000);
  });

  it('never retries a cancelled run', () => {
    const run = { ...runningOn('a', 3), cancelRequestedAt: 3000 };

    expect(finishAttempt(run, outcome('failed'))?.status).toBe('failed');
    expect(finishAttempt(run, outcome('cancelled'))?.status).toBe('cancelled');
  });

  it('queues a refused assignment again', () => {
    const assigned = assign(queuedRun(), 'a');
    const requeued = assigned ? unassign(assigned, 'no free slot') : null;

    expect(requeued?.status).toBe('queued');
    expect(requeued?.attempt).toBe(1);
    expect(requeued?.waitingReason).toBe('no free slot');
  });

  it('clears the offline mark when requeued', () => {
    const assigned = assign(queuedRun(), 'a');
    if (!assigned) throw new Error('not assigned');

    const requeued = unassign({ ...assigned, agentOfflineSince: 1500 }, 'agent went away');
    const reassigned = requeued ? assign({ ...requeued, agentOfflineSince: 1500 }, 'b') : null;

    expect(requeued?.agentOfflineSince).toBeNull();
    expect(reassigned?.agentOfflineSince).toBeNull();
  });

  it('starts a retry without the old outcome', () => {
    const retried = finishAttempt(runningOn('a', 1), outcome('failed'));
    const reassigned = retried ? assign(retried, 'b') : null;

    expect(reassigned?.error).toBeNull();
    expect(reassigned?.exitCode).toBeNull();
  });

  it('lists each earlier agent once', () => {
    let run = runningOn('a', 5);
    for (let i = 0; i < 3; i += 1) {
      const retried = finishAttempt(run, outcome('failed'));
      const again = retried ? markStarted(assign(retried, 'a') as Run, 3000) : null;
      if (!again) throw new Error('not restarted');
      run = again;
    }

    expect(run.previousAgentIds).toEqual(['a']);
  });

  it('cancels only queued runs directly', () => {
    expect(cancelQueued(queuedRun(), 3000)?.status).toBe('cancelled');
    expect(cancelQueued(runningOn('a'), 3000)).toBeNull();
  });
});
