import { isFinal, isUnrun, type Run } from '../model.js';
import type { Settings } from './schema.js';

const DAY_MS = 24 * 3600 * 1000;

/**
 * Selects the final runs to delete: those that finished more than
 * `retentionDays` ago (queued, for a run without a finish time) and those
 * beyond the newest `retentionPerJob` runs of their job. Runs that are not
 * final count towards a job's newest runs but are never selected. Missed and
 * skipped entries are ranked apart from runs, so a job that skips many fires
 * does not push its real runs out of history.
 *
 * @param runs all runs, oldest queued first
 */
export function selectExpiredRuns(
  runs: readonly Run[],
  settings: Pick<Settings, 'retentionDays' | 'retentionPerJob'>,
  now: number,
): Set<string> {
  const cutoff = now - settings.retentionDays * DAY_MS;
  const seenPerJob = new Map<string, number>();
  const expired = new Set<string>();
  for (let index = runs.length - 1; index >= 0; index -= 1) {
    const run = runs[index] as Run;
    let rank = 0;
    if (run.jobId !== null) {
      const key = isUnrun(run.status) ? `${run.jobId}\0unrun` : run.jobId;
      rank = seenPerJob.get(key) ?? 0;
      seenPerJob.set(key, rank + 1);
    }
    if (!isFinal(run.status)) continue;
    const tooOld = (run.finishedAt ?? run.queuedAt) < cutoff;
    const beyondCount = run.jobId !== null && rank >= settings.retentionPerJob;
    if (tooOld || beyondCount) expired.add(run.id);
  }
  return expired;
}
