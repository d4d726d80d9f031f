/**
 * Run state transitions as pure functions: each takes a run and returns the
 * next version of it, or null when the transition is not allowed. A run's
 * final status is set once; no function here moves a final run.
 *
 *   queued -> assigned -> running -> succeeded | failed | timed_out | cancelled | lost
 *      ^         |           |
 *      +---------+-----------+  (assignment refused, or a retry of a failed attempt)
 */
import { isFinal, type FinalStatus, type Json, type Run, type RunTrigger } from './model.js';

export interface NewRun {
  id: string;
  jobId: string | null;
  jobName: string | null;
  taskId: string;
  taskVersion: number;
  trigger: RunTrigger;
  config: Record<string, Json>;
  tags: string[];
  timeoutSec: number | null;
  retries: number;
  retryDelaySec: number;
  now: number;
}

export function createRun(params: NewRun): Run {
  return {
    id: params.id,
    jobId: params.jobId,
    jobName: params.jobName,
    taskId: params.taskId,
    taskVersion: params.taskVersion,
    trigger: params.trigger,
    config: params.config,
    tags: params.tags,
    timeoutSec: params.timeoutSec,
    retryDelaySec: params.retryDelaySec,
    status: 'queued',
    attempt: 1,
    maxAttempts: params.retries + 1,
    agentId: null,
    previousAgentIds: [],
    exitCode: null,
    signal: null,
    error: null,
    progress: null,
    result: null,
    waitingReason: null,
    notBefore: null,
    agentOfflineSince: null,
    cancelRequestedAt: null,
    queuedAt: params.now,
    startedAt: null,
    finishedAt: null,
    lastSeq: 0,
    logLines: 0,
    logBytes: 0,
    logTruncated: false,
    recordCount: 0,
  };
}

export function assign(run: Run, agentId: string): Run | null {
  if (run.status !== 'queued') return null;
  // An earlier attempt's outcome and offline mark do not belong to the new attempt.
  return {
    ...run,
    status: 'assigned',
    agentId,
    waitingReason: null,
    notBefore: null,
    agentOfflineSince: null,
    exitCode: null,
    signal: null,
    error: null,
    lastSeq: 0,
  };
}

/** Queues an assigned run again, same attempt, because its agent rejected or never acknowledged it. */
export function unassign(run: Run, reason: string): Run | null {
  if (run.status !== 'assigned') return null;
  return { ...run, status: 'queued', agentId: null, agentOfflineSince: null, waitingReason: reason };
}

export function markStarted(run: Run, at: number): Run | null {
  if (run.status !== 'assigned' && run.status !== 'running') return null;
  return { ...run, status: 'running', startedAt: run.startedAt ?? at, agentOfflineSince: null };
}

export interface AttemptOutcome {
  status: Exclude<FinalStatus, 'lost'> | 'lost';
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  result: Json | null;
  logTruncated: boolean;
  at: number;
  /** Makes this outcome final even when retries remain, because another attempt would end the same way (a deleted task, an unreadable secret). */
  noRetry?: boolean;
}

/** Statuses after which another attempt may follow, if the job allows retries. */
const RETRYABLE: ReadonlySet<string> = new Set(['failed', 'timed_out', 'lost']);

/**
 * Ends the current attempt. If the outcome is retryable, retries remain, no
 * cancel was requested and the outcome does not forbid it, the run queues again as the next attempt after
 * the run's retry delay; otherwise the outcome becomes the run's final status.
 */
export function finishAttempt(run: Run, outcome: AttemptOutcome): Run | null {
  if (isFinal(run.status)) return null;
  const retry = RETRYABLE.has(outcome.status) && run.attempt < run.maxAttempts && run.cancelRequestedAt === null && outcome.noRetry !== true;
  const ended: Run = {
    ...run,
    exitCode: outcome.exitCode,
    signal: outcome.signal,
    error: outcome.error,
    logTruncated: run.logTruncated || outcome.logTruncated,
    agentOfflineSince: null,
  };
  // A final run waits for nothing, so the waiting reason of an earlier retry goes.
  if (!retry) return { ...ended, status: outcome.status, result: outcome.result, finishedAt: outcome.at, waitingReason: null, notBefore: null };
  return {
    ...ended,
    status: 'queued',
    attempt: run.attempt + 1,
    agentId: null,
    previousAgentIds: run.agentId && !run.previousAgentIds.includes(run.agentId) ? [...run.previousAgentIds, run.agentId] : run.previousAgentIds,
    notBefore: outcome.at + run.retryDelaySec * 1000,
    waitingReason: `retry ${run.attempt + 1} of ${run.maxAttempts} after ${outcome.status}`,
    progress: null,
    lastSeq: 0,
  };
}

/** Cancels a run that no agent has taken yet, so it is final at once. */
export function cancelQueued(run: Run, at: number): Run | null {
  if (run.status !== 'queued') return null;
  return { ...run, status: 'cancelled', error: 'cancelled before it started', finishedAt: at, waitingReason: null };
}
