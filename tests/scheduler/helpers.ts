import pino, { type Logger } from 'pino';
import { vi } from 'vitest';
import { Scheduler, type FireKind, type ScheduledJob, type SchedulerOptions } from '../../electron/hub/scheduler/index.js';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export interface RecordedFire {
  jobId: string;
  /** The fire instant the scheduler reported, ISO. */
  fireDate: string;
  /** Wall clock when onFire was called, ISO. */
  firedAt: string;
  kind: FireKind;
  missedCount: number;
}

export interface RecordedMiss {
  jobId: string;
  missedCount: number;
  firstMissed: string;
  lastMissed: string;
}

export interface LogLine {
  level: number;
  msg: string;
  [key: string]: unknown;
}

/** Creates a pino logger that keeps every line in memory. */
export function captureLogger(): { logger: Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => lines.push(JSON.parse(line) as LogLine) });
  return { logger, lines };
}

/** Creates a scheduler whose fires, misses, errors and log lines are recorded. */
export function recordingScheduler(options: Partial<SchedulerOptions> = {}) {
  const fires: RecordedFire[] = [];
  const misses: RecordedMiss[] = [];
  const errors: Array<{ jobId: string; code: string }> = [];
  const { logger, lines } = captureLogger();
  const scheduler = new Scheduler({
    logger,
    onFire: (jobId, fireDate, kind, missedCount) =>
      fires.push({ jobId, fireDate: fireDate.toISOString(), firedAt: new Date().toISOString(), kind, missedCount }),
    onMissed: (jobId, missedCount, firstMissed, lastMissed) =>
      misses.push({ jobId, missedCount, firstMissed: firstMissed.toISOString(), lastMissed: lastMissed.toISOString() }),
    onScheduleError: (jobId, error) => errors.push({ jobId, code: error.code }),
    ...options,
  });
  return { scheduler, fires, misses, errors, lines };
}

export function job(id: string, cron: string, overrides: Partial<ScheduledJob> = {}, timezone = 'UTC'): ScheduledJob {
  return { id, enabled: true, schedule: { cron, timezone }, catchUp: 'none', ...overrides };
}

/**
 * Fakes timers, Date and performance.now(). vi.setSystemTime then moves only
 * the wall clock: pending timers keep their remaining delay and the
 * monotonic clock does not advance, as after a sleep or a change of system time.
 */
export function useFakeClock(startIso: string): void {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'setInterval', 'clearInterval', 'Date', 'performance'] });
  vi.setSystemTime(new Date(startIso));
}

export function iso(instant: number | Date): string {
  return new Date(instant).toISOString();
}
