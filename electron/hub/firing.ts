/**
 * What happens when a job's schedule fires: the job's overlap policy decides
 * whether a run is queued, and a fire that starts no run leaves a history
 * entry (fire-history.ts).
 *
 * - skip: no new run while one of the job's runs is queued or running.
 * - queue: at most one run waits behind the running one; further fires are skipped.
 * - parallel: up to maxParallel runs at once; further fires are skipped.
 */
import { SkipWindows, unrunEntry, type UnrunSink } from './fire-history.js';
import type { Logger } from './logger.js';
import type { FireWindow, Job, Task } from './model.js';
import type { RunManager } from './runs.js';
import type { Store } from './store/index.js';

export interface FiringDeps {
  store: Store;
  runs: Pick<RunManager, 'activeForJob' | 'enqueueJob'> & UnrunSink;
  log: Logger;
  /** Wall clock of the history entries; Date.now by default. */
  now?: () => number;
  /** Maximum rate at which a growing skip window is written again, in ms. */
  skipWriteIntervalMs?: number;
}

export type FireDecision = { queue: true } | { queue: false; reason: string; overlappedRunId: string | null };

/** Decides whether a fire queues a run, given the job's runs that are not final, oldest first. */
export function decideFire(job: Job, active: { id: string; status: string }[]): FireDecision {
  const queued = active.filter((run) => run.status === 'queued');
  const newest = active.at(-1)?.id ?? null;
  switch (job.overlap) {
    case 'skip':
      return active.length === 0 ? { queue: true } : { queue: false, reason: 'the previous run is still active', overlappedRunId: newest };
    case 'queue':
      return queued.length === 0
        ? { queue: true }
        : { queue: false, reason: 'a run is already waiting behind the active one', overlappedRunId: queued[0]?.id ?? null };
    case 'parallel':
      return active.length < job.maxParallel
        ? { queue: true }
        : { queue: false, reason: `${job.maxParallel} runs of this job are already active`, overlappedRunId: newest };
  }
}

export function startFiring(deps: FiringDeps) {
  const now = deps.now ?? Date.now;
  const skips = new SkipWindows(deps.runs, deps.skipWriteIntervalMs);
  const jobAndTask = (jobId: string): { job: Job; task: Task } | null => {
    const job = deps.store.state.jobs.find((entry) => entry.id === jobId);
    if (!job || !job.enabled) return null;
    const task = deps.store.state.tasks.find((entry) => entry.id === job.taskId);
    if (!task) {
      deps.log.error({ jobId, taskId: job.taskId }, 'scheduled fire skipped: the job task no longer exists');
      return null;
    }
    return { job, task };
  };

  return {
    /** Queues a run for a fire, or records the fire as skipped. `firstMissed` is set for a catch-up. */
    fire(jobId: string, fireDate: Date, kind: 'scheduled' | 'catch_up', missedCount: number, firstMissed?: Date): void {
      const found = jobAndTask(jobId);
      if (!found) {
        skips.close(jobId);
        return;
      }
      const { job, task } = found;
      const at = fireDate.getTime();
      const fires: FireWindow = kind === 'catch_up' ? { count: missedCount, first: firstMissed?.getTime() ?? at, last: at } : { count: 1, first: at, last: at };
      const decision = decideFire(job, deps.runs.activeForJob(jobId));
      if (!decision.queue) {
        const entry = skips.skip(job, task.version, fires, { reason: decision.reason, overlappedRunId: decision.overlappedRunId }, now());
        deps.log.info({ jobId, fireDate, kind, reason: decision.reason, overlappedRunId: decision.overlappedRunId, entryId: entry.id }, 'scheduled fire skipped');
        return;
      }
      skips.close(jobId);
      if (kind === 'catch_up') deps.log.info({ jobId, missedCount }, 'catching up missed fires with one run');
      deps.runs.enqueueJob(job, task, kind === 'catch_up' ? 'catch_up' : 'schedule', now(), kind === 'catch_up' ? fires : undefined);
    },

    /** Records one window of fires missed under catch-up policy none as one `missed` entry. */
    missed(jobId: string, missedCount: number, firstMissed: Date, lastMissed: Date): void {
      const found = jobAndTask(jobId);
      if (!found) return;
      const fires: FireWindow = { count: missedCount, first: firstMissed.getTime(), last: lastMissed.getTime() };
      const entry = unrunEntry(found.job, found.task.version, 'missed', fires, now());
      deps.runs.recordUnrun(entry);
      deps.log.info({ jobId, missedCount, firstMissed, lastMissed, entryId: entry.id }, 'missed fires recorded');
    },

    /** Writes the counts of open skip windows; call when the hub stops. */
    stop(): void {
      skips.flush();
    },
  };
}
