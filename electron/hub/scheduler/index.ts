/**
 * The hub's scheduler: cron validation with reasons a user can act on,
 * next-fire previews, and the timer registry that reports each fire.
 * docs/scheduling.md describes the behaviour users see.
 */
import { compileSchedule, type CompiledSchedule } from './cron-spec.js';
import { Deadline, ScheduleError } from './errors.js';
import { fireInstantsAfter } from './fire-times.js';

export { Scheduler, type FireKind, type ScheduledJob, type SchedulerOptions } from './scheduler.js';
export { ScheduleError, type ScheduleErrorCode } from './errors.js';

export type CronCheck = { ok: true; next: Date[] } | { ok: false; reason: string; field: 'cron' | 'timezone' };

export interface ScheduleSpec {
  cron: string;
  timezone: string;
}

/** Most fire times one preview may ask for. */
export const MAX_PREVIEW_COUNT = 1000;

function checkCount(count: number): void {
  if (!Number.isInteger(count) || count < 1 || count > MAX_PREVIEW_COUNT) {
    throw new ScheduleError('invalid_argument', `count must be a whole number from 1 to ${MAX_PREVIEW_COUNT}, got ${String(count)}`);
  }
}

function checkFrom(from: Date): void {
  if (!(from instanceof Date) || Number.isNaN(from.getTime())) {
    throw new ScheduleError('invalid_argument', `from must be a valid Date, got ${String(from)}`);
  }
}

function compileOrReason(schedule: ScheduleSpec, deadline: Deadline): CompiledSchedule | { reason: string; field: 'cron' | 'timezone' } {
  if (typeof schedule?.cron !== 'string') return { reason: 'the cron expression is missing', field: 'cron' };
  if (typeof schedule.timezone !== 'string') return { reason: 'the time zone is missing', field: 'timezone' };
  const compiled = compileSchedule(schedule, deadline);
  return compiled.ok ? compiled.schedule : compiled;
}

/**
 * Validates a cron expression (5 fields, or 6 with leading seconds) in a
 * time zone. Returns the next `count` fire times (default 5) after `from`
 * (default now), or the reason the schedule is invalid. An `ok` result
 * always has at least one fire time. Throws ScheduleError
 * 'invalid_argument' for a bad `count` or `from`.
 */
export function checkSchedule(schedule: ScheduleSpec, options: { count?: number; from?: Date } = {}): CronCheck {
  const count = options.count ?? 5;
  const from = options.from ?? new Date();
  checkCount(count);
  checkFrom(from);
  try {
    const deadline = new Deadline();
    const compiled = compileOrReason(schedule, deadline);
    if ('reason' in compiled) return { ok: false, ...compiled };
    const next = fireInstantsAfter(compiled, from.getTime(), count, deadline);
    if (next.length === 0) return { ok: false, field: 'cron', reason: 'this schedule has no fire time in the future' };
    return { ok: true, next: next.map((instant) => new Date(instant)) };
  } catch (error: unknown) {
    if (error instanceof ScheduleError && error.code === 'compute_timeout') {
      return { ok: false, field: 'cron', reason: 'computing the fire times of this schedule took too long; simplify the expression or report this as a bug' };
    }
    throw error;
  }
}

/**
 * Returns the next `count` fire times strictly after `from` (default now),
 * in increasing order. Throws ScheduleError 'invalid_schedule' with the
 * reason when the schedule is invalid, and 'compute_timeout' when the
 * computation exceeds its 1 s budget.
 */
export function nextFireTimes(schedule: ScheduleSpec, count: number, from: Date = new Date()): Date[] {
  checkCount(count);
  checkFrom(from);
  const deadline = new Deadline();
  const compiled = compileOrReason(schedule, deadline);
  if ('reason' in compiled) throw new ScheduleError('invalid_schedule', compiled.reason);
  return fireInstantsAfter(compiled, from.getTime(), count, deadline).map((instant) => new Date(instant));
}
