/**
 * What happens when a job's schedule fires: the job's overlap policy decides
 * whether a run is queued.
 *
 * - skip: no new run while one of the job's runs is queued or running.
 * - queue: at most one run waits behind the running one; further fires are skipped.
 * - parallel: up to maxParallel runs at once; further fires are skipped.
 */
import type { Logger } from './logger.js';
import type { Job } from './model.js';
import type { RunManager } from './runs.js';
import type { Store } from './store/index.js';

export interface FiringDeps {
  store: Store;
  runs: RunManager;
  log: Logger;
}

export type FireDecision = { queue: true } | { queue: false; reason: string };

/** Decides whether a fire queues a run, given the job's runs that are not final. */
export function decideFire(job: Job, active: { status: string }[]): FireDecision {
  const queued = active.filter((run) => run.status === 'queued').length;
  const busy = active.length - queued;
  switch (job.overlap) {
    case 'skip':
      return active.length === 0 ? { queue: true } : { queue: false, reason: 'the previous run is still active' };
    case 'queue':
      return queued === 0 ? { queue: true } : { queue: false, reason: 'a run is already waiting behind the active one' };
    case 'parallel':
      return busy + queued < job.maxParallel
        ? { queue: true }
        : { queue: false, reason: `${job.maxParallel} runs of this job are already active` };
  }
}

export function startFiring(deps: FiringDeps) {
  return {
    fire(jobId: string, fireDate: Date, kind: 'scheduled' | 'catch_up', missedCount: number): void {
      const job = deps.store.state.jobs.find((entry) => entry.id === jobId);
      if (!job || !job.enabled) return;
      const task = deps.store.state.tasks.find((entry) => entry.id === job.taskId);
      if (!task) {
        deps.log.error({ jobId, taskId: job.taskId }, 'scheduled fire skipped: the job task no longer exists');
        return;
      }
      const decision = decideFire(job, deps.runs.activeForJob(jobId));
      if (!decision.queue) {
        deps.log.info({ jobId, fireDate, reason: decision.reason }, 'scheduled fire skipped');
        return;
      }
      if (kind === 'catch_up') deps.log.info({ jobId, missedCount }, 'catching up missed fires with one run');
      deps.runs.enqueueJob(job, task, kind === 'catch_up' ? 'catch_up' : 'schedule', Date.now());
    },
  };
}
