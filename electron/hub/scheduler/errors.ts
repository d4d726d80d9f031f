/**
 * Errors raised by the scheduler. Callers branch on `code`, never on the
 * message text.
 */
export type ScheduleErrorCode =
  /** The cron expression or time zone is rejected, and the message gives the reason. */
  | 'invalid_schedule'
  /** Computing fire times exceeded its time budget, which means a bug in the fire-time search. */
  | 'compute_timeout'
  /** A caller passed an argument outside its documented range. */
  | 'invalid_argument'
  /** An unexpected exception while scheduling a job, kept in `cause`. */
  | 'internal_error';

export class ScheduleError extends Error {
  override readonly name = 'ScheduleError';

  constructor(
    readonly code: ScheduleErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** Maximum time one fire-time computation may take before it is abandoned. */
export const COMPUTE_BUDGET_MS = 1000;

/**
 * A time budget for one computation. The search loops call `check()` as
 * they go, because a synchronous loop cannot be interrupted by a timer.
 */
export class Deadline {
  private readonly expiresAt: number;

  constructor(budgetMs = COMPUTE_BUDGET_MS) {
    this.expiresAt = performance.now() + budgetMs;
  }

  check(): void {
    if (performance.now() > this.expiresAt) {
      throw new ScheduleError('compute_timeout', 'computing the next fire time took longer than its time budget');
    }
  }
}
