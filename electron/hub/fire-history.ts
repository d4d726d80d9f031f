/**
 * History entries for scheduled fires that started no run: one `missed`
 * entry per window of fires the hub missed while the job's catch-up policy
 * is `none`, and one `skipped` entry per stretch of fires the overlap policy
 * skipped for the same active run. Each entry carries the count and the
 * first and last instants, so a job that fires every second never writes an
 * entry per fire.
 */
import { randomUUID } from 'node:crypto';
import type { FireWindow, Job, Run, UnrunStatus } from './model.js';
import { createRun } from './run-state.js';

/** Receiver of the entries: the run manager stores them and pushes them to the UI. */
export interface UnrunSink {
  recordUnrun(entry: Run): void;
}

export interface SkipCause {
  reason: string;
  overlappedRunId: string | null;
}

/** Default maximum rate at which a growing skip window is written again, in ms. */
export const SKIP_WRITE_INTERVAL_MS = 10_000;

/** Builds a final history entry for fires of `job` that started no run. */
export function unrunEntry(job: Job, taskVersion: number, status: UnrunStatus, fires: FireWindow, now: number, skip?: SkipCause): Run {
  const base = createRun({
    id: randomUUID(),
    jobId: job.id,
    jobName: job.name,
    taskId: job.taskId,
    taskVersion,
    trigger: 'schedule',
    config: job.config,
    tags: job.tags,
    timeoutSec: job.timeoutSec,
    retries: 0,
    retryDelaySec: 0,
    now,
  });
  const entry: Run = { ...base, status, finishedAt: now, fires };
  return skip ? { ...entry, skipReason: skip.reason, overlappedRunId: skip.overlappedRunId } : entry;
}

interface OpenSkip {
  entry: Run;
  /** Set when the count grew since the entry was last written. */
  unwritten: boolean;
}

/**
 * The open skip window of each job. A skipped fire for the same run and
 * reason as the job's open window extends it; any other opens a new one. The
 * first fire of a window is written at once and later counts at most once
 * per `writeIntervalMs`, so a store is not rewritten on every tick.
 */
export class SkipWindows {
  private readonly open = new Map<string, OpenSkip>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly sink: UnrunSink,
    private readonly writeIntervalMs = SKIP_WRITE_INTERVAL_MS,
  ) {}

  /** Records skipped fires of `job` and returns the entry that counts them. */
  skip(job: Job, taskVersion: number, fires: FireWindow, cause: SkipCause, now: number): Run {
    const current = this.open.get(job.id);
    if (current && current.entry.overlappedRunId === cause.overlappedRunId && current.entry.skipReason === cause.reason) {
      const counted = current.entry.fires ?? fires;
      const grown: FireWindow = { count: counted.count + fires.count, first: counted.first, last: Math.max(counted.last, fires.last) };
      current.entry = { ...current.entry, fires: grown, finishedAt: now };
      current.unwritten = true;
      this.writeLater();
      return current.entry;
    }
    this.close(job.id);
    const entry = unrunEntry(job, taskVersion, 'skipped', fires, now, cause);
    this.open.set(job.id, { entry, unwritten: false });
    this.sink.recordUnrun(entry);
    return entry;
  }

  /** Ends the job's open window and writes its final count; for a fire that started a run, or a job that is gone. */
  close(jobId: string): void {
    const current = this.open.get(jobId);
    if (!current) return;
    this.open.delete(jobId);
    if (current.unwritten) this.sink.recordUnrun(current.entry);
  }

  /** Writes every count that grew since it was last written; called on a timer and when the hub stops. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const current of this.open.values()) {
      if (!current.unwritten) continue;
      current.unwritten = false;
      this.sink.recordUnrun(current.entry);
    }
  }

  /** Number of jobs with an open window. */
  get size(): number {
    return this.open.size;
  }

  private writeLater(): void {
    if (this.timer) return;
    this.timer = setTimeout(() => this.flush(), this.writeIntervalMs);
    this.timer.unref();
  }
}
