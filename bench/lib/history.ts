/**
 * A run history of a chosen size, written through the hub's own store. Each
 * run is put as queued, running and final, with two lines of output. Then
 * the store's retention pass compacts it, as a running hub does at start and
 * every 6 hours, with retention set high enough to keep every run.
 */
import { randomUUID } from 'node:crypto';
import type { Run, RunStatus } from '../../electron/hub/model.js';
import { createRun } from '../../electron/hub/run-state.js';
import { openStore, type Store } from '../../electron/hub/store/index.js';

export const JOBS = 100;
export const AGENTS = 10;
/** Retention that keeps the whole generated history. */
export const KEEP_ALL = { retentionDays: 3650, retentionPerJob: 1_000_000 };

const FINAL_MIX: Array<[RunStatus, number]> = [
  ['succeeded', 0.9],
  ['failed', 0.07],
  ['timed_out', 0.02],
  ['cancelled', 0.01],
];

function finalStatus(index: number): RunStatus {
  let threshold = 0;
  const position = (index * 7919) % 1000;
  for (const [status, share] of FINAL_MIX) {
    threshold += share * 1000;
    if (position < threshold) return status;
  }
  return 'succeeded';
}

export function jobId(index: number): string {
  return `job-${index % JOBS}`;
}

export function agentId(index: number): string {
  return `agent-${index % AGENTS}`;
}

/** Creates a run as the hub stores it, queued at `queuedAt`. */
export function makeRun(index: number, queuedAt: number): Run {
  return createRun({
    id: randomUUID(),
    jobId: jobId(index),
    jobName: `collector ${index % JOBS}`,
    taskId: `task-${index % 20}`,
    taskVersion: 3,
    trigger: 'schedule',
    config: { city: `city-${index % 50}`, pages: 10, endpoint: 'https://api.example.org/v2/observations' },
    tags: [],
    timeoutSec: 600,
    retries: 0,
    retryDelaySec: 10,
    now: queuedAt,
  });
}

/** Puts one run through queued, running and its final status, and appends its output. */
export function recordLifecycle(store: Store, index: number, queuedAt: number): void {
  const queued = makeRun(index, queuedAt);
  store.runs.put(queued);
  const running: Run = { ...queued, status: 'running', agentId: agentId(index), startedAt: queuedAt + 5, lastSeq: 1 };
  store.runs.put(running);
  const status = finalStatus(index);
  const lines = [
    { t: queuedAt + 1, s: 'system' as const, m: `attempt 1 assigned to agent ${agentId(index)}` },
    { t: queuedAt + 900, s: 'stdout' as const, m: `collected 1000 datapoints for city-${index % 50}` },
  ];
  store.logs.appendLog(queued.id, lines, { attempt: 1, seq: 2 });
  store.runs.put({
    ...running,
    status,
    exitCode: status === 'succeeded' ? 0 : 1,
    error: status === 'succeeded' ? null : `ended as ${status}`,
    result: status === 'succeeded' ? { count: 1000 } : null,
    finishedAt: queuedAt + 1000,
    lastSeq: 3,
    logLines: 2,
    logBytes: lines.reduce((sum, line) => sum + line.m.length, 0),
  });
}

/**
 * Writes `count` runs spread over the last 7 days into a new store in
 * `dataDir`, compacts it and closes it.
 */
export async function buildHistory(dataDir: string, count: number, onProgress: (done: number) => void): Promise<void> {
  const store = await openStore(dataDir);
  store.state.settings = { ...store.state.settings, ...KEEP_ALL };
  store.save();
  const span = 7 * 24 * 3600 * 1000;
  const start = Date.now() - span;
  for (let index = 0; index < count; index += 1) {
    recordLifecycle(store, index, start + Math.floor((index * span) / count));
    // Bounded memory and open files: flush every few thousand runs.
    if (index % 2_000 === 1_999) {
      await store.flush();
      onProgress(index + 1);
    }
  }
  await store.flush();
  await store.applyRetention(KEEP_ALL);
  await store.close();
}
