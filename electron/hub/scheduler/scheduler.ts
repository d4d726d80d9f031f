/**
 * The hub's timer registry: one node-schedule timer per enabled job that has
 * a schedule, armed one fire at a time with the exact instant computed by
 * fire-times.ts, so the preview a user sees and the timer always agree.
 *
 * Late fires (sleep, a wall clock set ahead, a hub that was down) follow the
 * job's catch-up policy, and a wall clock set back re-arms every timer from
 * the new time without firing an instant twice. Whether a fire starts a run
 * (overlap policies) is for the caller to decide.
 */
import schedule from 'node-schedule';
import type { Logger } from 'pino';
import { z } from 'zod';
import { createLogger } from '../logger.js';
import { catchUpPolicySchema, type CatchUpPolicy } from '../model.js';
import { ClockWatch } from './clock-watch.js';
import { compileSchedule, type CompiledSchedule } from './cron-spec.js';
import { COMPUTE_BUDGET_MS, Deadline, ScheduleError } from './errors.js';
import { FiredRanges } from './fired-ranges.js';
import { fireInstants, nextFireAfter } from './fire-times.js';

export type FireKind = 'scheduled' | 'catch_up';

export interface SchedulerOptions {
  /**
   * Called for each fire. `missedCount` is 0 for a scheduled fire. For a
   * catch-up it is the number of missed fires, and `firstMissed` and
   * `fireDate` are the earliest and the latest of them.
   */
  onFire(jobId: string, fireDate: Date, kind: FireKind, missedCount: number, firstMissed?: Date): void;
  /** Called when fires were missed and the job's catch-up policy is 'none', so they can be recorded as missed. */
  onMissed?(jobId: string, missedCount: number, firstMissed: Date, lastMissed: Date): void;
  /** Called when a job gets no timer because its schedule is invalid or its fire-time computation failed. */
  onScheduleError?(jobId: string, error: ScheduleError): void;
  logger?: Logger;
  /** Wall clock, injectable for tests. Timers follow Date.now(), so it must agree with it. */
  now?: () => number;
  /** Monotonic clock that stops during sleep; performance.now() by default. */
  monotonicNow?: () => number;
  /** How often the wall clock is compared with the monotonic clock, in ms. Default 10 000. */
  clockCheckIntervalMs?: number;
  /** Smallest clock difference treated as a jump or a sleep, in ms. Default 2 000. */
  clockJumpThresholdMs?: number;
  /**
   * A single fire this late or less still counts as on time, in ms. Defaults
   * to the clock check interval, so a fire that falls due between a wake and
   * its detection is not treated as missed.
   */
  lateToleranceMs?: number;
  /** Time budget of one fire-time computation, in ms. Default 1 000. */
  computeBudgetMs?: number;
}

export interface ScheduledJob {
  id: string;
  enabled: boolean;
  schedule: { cron: string; timezone: string } | null;
  catchUp: CatchUpPolicy;
}

const jobSchema = z.object({
  id: z.string().min(1),
  enabled: z.boolean(),
  schedule: z.object({ cron: z.string(), timezone: z.string() }).nullable(),
  catchUp: catchUpPolicySchema,
});

const msOption = z.number().positive().finite();

/** Missed fires counted one by one up to this many; beyond it the count is reported as this number. */
const MAX_COUNTED_MISSES = 100_000;
/** Maximum delay Node's setTimeout accepts without clamping it to 1 ms. */
const MAX_TIMEOUT_MS = 2 ** 31 - 1;

interface Entry {
  id: string;
  /** Time zone and expression the timer was armed for. */
  key: string;
  catchUp: CatchUpPolicy;
  /** Null when the schedule is invalid or failed. */
  schedule: CompiledSchedule | null;
  nextAt: number | null;
  /** The fired instant that directly precedes `nextAt`, so both join one fired range. */
  chainFrom: number | null;
  timer: { cancel(): void } | null;
  timerId: number;
  fired: FiredRanges;
}

interface Missed {
  count: number;
  first: number;
  last: number;
}

export class Scheduler {
  private readonly entries = new Map<string, Entry>();
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly lateToleranceMs: number;
  private readonly computeBudgetMs: number;
  private readonly watch: ClockWatch;
  private timerIds = 0;

  constructor(private readonly options: SchedulerOptions) {
    this.log = options.logger ?? createLogger();
    this.now = options.now ?? Date.now;
    const clockCheckIntervalMs = checkMs('clockCheckIntervalMs', options.clockCheckIntervalMs, 10_000);
    this.lateToleranceMs = checkMs('lateToleranceMs', options.lateToleranceMs, clockCheckIntervalMs);
    this.computeBudgetMs = checkMs('computeBudgetMs', options.computeBudgetMs, COMPUTE_BUDGET_MS);
    this.watch = new ClockWatch({
      intervalMs: clockCheckIntervalMs,
      thresholdMs: checkMs('clockJumpThresholdMs', options.clockJumpThresholdMs, 2_000),
      now: this.now,
      monotonicNow: options.monotonicNow ?? (() => performance.now()),
      onJump: (jumpMs) => this.resyncAfterJump(jumpMs),
      log: this.log,
    });
  }

  /** Makes the registry match these jobs: exactly one timer per enabled job with a valid schedule, none for others. Idempotent. */
  sync(jobs: readonly ScheduledJob[]): void {
    const listed = new Set<string>();
    for (const job of jobs) {
      listed.add(job.id);
      this.upsert(job);
    }
    for (const id of [...this.entries.keys()]) {
      if (!listed.has(id)) this.remove(id);
    }
  }

  /**
   * Adds a job, re-arms it when its schedule or time zone changed, or removes
   * it when it is disabled or has no schedule. A job whose schedule failed
   * is compiled and armed again.
   */
  upsert(job: ScheduledJob): void {
    const parsed = jobSchema.safeParse(job);
    if (!parsed.success) {
      throw new ScheduleError('invalid_argument', `scheduler job is invalid: ${z.prettifyError(parsed.error)}`);
    }
    const { id, enabled, schedule: spec, catchUp } = parsed.data;
    if (!enabled || spec === null) {
      this.remove(id);
      return;
    }

    const key = `${spec.timezone}\n${spec.cron}`;
    const existing = this.entries.get(id);
    if (existing?.key === key && existing.schedule !== null) {
      existing.catchUp = catchUp;
      return;
    }
    if (existing) this.cancelTimer(existing);
    const entry: Entry = existing ?? { id, key, catchUp, schedule: null, nextAt: null, chainFrom: null, timer: null, timerId: 0, fired: new FiredRanges() };
    // Instants fired under the previous schedule are no record of this one's instants.
    Object.assign(entry, { key, catchUp, schedule: null, nextAt: null, chainFrom: null, fired: new FiredRanges() });
    this.entries.set(id, entry);

    this.guard(entry, () => {
      const compiled = compileSchedule(spec, new Deadline(this.computeBudgetMs));
      if (!compiled.ok) throw new ScheduleError('invalid_schedule', compiled.reason);
      entry.schedule = compiled.schedule;
      this.arm(entry, this.now());
      this.log.info({ jobId: id, cron: spec.cron, timezone: spec.timezone, nextFire: dateOrNull(entry.nextAt) }, existing ? 'job rescheduled' : 'job scheduled');
    });
  }

  remove(jobId: string): void {
    const entry = this.entries.get(jobId);
    if (!entry) return;
    this.cancelTimer(entry);
    this.entries.delete(jobId);
    this.log.info({ jobId }, 'job unscheduled');
  }

  /**
   * Applies each job's catch-up policy to the fires missed between
   * `lastAliveAt` (when the hub last recorded itself alive) and now. Call it
   * once at hub start, after `sync`. `lastFireOf` gives the time a job's
   * latest recorded fire was handled, if any: a crash after the last alive
   * mark must not count fires the run history shows as handled.
   */
  catchUp(lastAliveAt: number, lastFireOf: (jobId: string) => number | null = () => null): void {
    if (!Number.isFinite(lastAliveAt)) {
      throw new ScheduleError('invalid_argument', `lastAliveAt must be a finite epoch time in ms, got ${String(lastAliveAt)}`);
    }
    const now = this.now();
    if (lastAliveAt >= now) {
      this.log.warn({ lastAliveAt, now }, 'hub last-alive time is not in the past; nothing to catch up');
      return;
    }
    for (const entry of this.entries.values()) {
      this.guard(entry, () => {
        if (!entry.schedule) return;
        // Instants from the armed one on belong to the timer.
        const until = entry.nextAt === null ? now : Math.min(now, entry.nextAt - 1);
        const since = Math.max(lastAliveAt, lastFireOf(entry.id) ?? lastAliveAt);
        const missed = this.countMissed(entry, entry.schedule, since + 1, until);
        if (missed) this.handleMissed(entry, missed);
      });
    }
  }

  nextFire(jobId: string): Date | null {
    return dateOrNull(this.entries.get(jobId)?.nextAt ?? null);
  }

  /** Returns the number of armed timers: one per enabled job whose schedule is valid and has a future fire time. */
  registeredCount(): number {
    let count = 0;
    for (const entry of this.entries.values()) if (entry.timer) count += 1;
    return count;
  }

  /** Cancels every timer and the clock check. The scheduler is empty afterwards and may be synced again. */
  stop(): void {
    for (const entry of this.entries.values()) this.cancelTimer(entry);
    this.entries.clear();
    this.watch.stop();
  }

  // -------------------------------------------------------------------------

  /** Arms the entry's timer for its first fire after `after` that has not fired yet. */
  private arm(entry: Entry, after: number): void {
    const spec = entry.schedule;
    // An onFire callback may have removed or replaced the job meanwhile.
    if (!spec || this.entries.get(entry.id) !== entry) return;
    const deadline = new Deadline(this.computeBudgetMs);
    let next = nextFireAfter(spec, after, deadline);
    // After the clock is set back, step over the instants that already fired.
    let covering = next === null ? null : entry.fired.containing(next);
    while (next !== null && covering !== null) {
      next = nextFireAfter(spec, covering.to, deadline);
      covering = next === null ? null : entry.fired.containing(next);
    }
    entry.nextAt = next;
    entry.chainFrom = null;
    if (next === null) {
      this.log.warn({ jobId: entry.id }, 'schedule has no future fire time; no timer armed');
      return;
    }
    const previous = entry.fired.lastEndBefore(next);
    if (previous !== null && nextFireAfter(spec, previous, deadline) === next) entry.chainFrom = previous;
    this.startTimer(entry, next);
    this.watch.start();
  }

  private startTimer(entry: Entry, at: number): void {
    this.cancelTimer(entry);
    const timerId = ++this.timerIds;
    entry.timerId = timerId;
    const fire = (): void => this.onTimer(entry, timerId);
    // node-schedule waits with long-timeout, which splits delays beyond 2^31-1 ms.
    const job = schedule.scheduleJob(new Date(at), fire);
    if (job) {
      entry.timer = { cancel: () => job.cancel() };
      return;
    }
    // node-schedule rejects a date that Date.now() has passed; wait by the injected clock instead.
    const handle = setTimeout(fire, Math.min(Math.max(0, at - this.now()), MAX_TIMEOUT_MS));
    entry.timer = { cancel: () => clearTimeout(handle) };
  }

  private cancelTimer(entry: Entry): void {
    entry.timer?.cancel();
    entry.timer = null;
    entry.timerId = 0;
  }

  private onTimer(entry: Entry, timerId: number): void {
    if (this.entries.get(entry.id) !== entry || entry.timerId !== timerId) return;
    entry.timer = null;
    this.guard(entry, () => this.settle(entry, this.now()));
  }

  /** Fires the entry's armed instant if it is due, handles fires missed by lateness, and re-arms. */
  private settle(entry: Entry, now: number): void {
    const due = entry.nextAt;
    if (!entry.schedule || due === null) return;
    this.cancelTimer(entry);
    if (due <= now) {
      const missed = this.countMissed(entry, entry.schedule, due, now) ?? { count: 1, first: due, last: due };
      if (missed.count === 1 && now - due <= this.lateToleranceMs) this.fire(entry, due, 'scheduled', 0);
      else this.handleMissed(entry, missed);
    }
    this.arm(entry, now);
  }

  /** Counts the instants in [from, to] that have not fired, or returns null when there are none. */
  private countMissed(entry: Entry, spec: CompiledSchedule, from: number, to: number): Missed | null {
    let missed: Missed | null = null;
    for (const instant of fireInstants(spec, from, new Deadline(this.computeBudgetMs))) {
      if (instant > to) break;
      if (entry.fired.containing(instant)) continue;
      if (missed === null) missed = { count: 1, first: instant, last: instant };
      else Object.assign(missed, { count: missed.count + 1, last: instant });
      // NOTE: past this cap the count is a lower bound and `last` is not the latest miss.
      if (missed.count >= MAX_COUNTED_MISSES) break;
    }
    return missed;
  }

  private handleMissed(entry: Entry, missed: Missed): void {
    const fields = { jobId: entry.id, missedCount: missed.count, firstMissed: new Date(missed.first), lastMissed: new Date(missed.last) };
    if (entry.catchUp === 'once') {
      this.log.info(fields, 'missed fires caught up with one fire');
      this.fire(entry, missed.last, 'catch_up', missed.count, missed.first);
      return;
    }
    this.log.warn(fields, 'missed fires skipped, as the catch-up policy is none');
    try {
      this.options.onMissed?.(entry.id, missed.count, new Date(missed.first), new Date(missed.last));
    } catch (error: unknown) {
      this.log.error({ err: error, jobId: entry.id }, 'onMissed callback failed');
    }
  }

  private fire(entry: Entry, instant: number, kind: FireKind, missedCount: number, firstMissed?: number): void {
    if (entry.fired.containing(instant)) {
      this.log.warn({ jobId: entry.id, fireDate: new Date(instant) }, 'fire skipped: this instant already fired');
      return;
    }
    const chained = kind === 'scheduled' && entry.chainFrom !== null && instant === entry.nextAt;
    entry.fired.add(chained && entry.chainFrom !== null ? entry.chainFrom : instant, instant);
    this.log.debug({ jobId: entry.id, fireDate: new Date(instant), kind, missedCount }, 'job fired');
    try {
      if (firstMissed === undefined) this.options.onFire(entry.id, new Date(instant), kind, missedCount);
      else this.options.onFire(entry.id, new Date(instant), kind, missedCount, new Date(firstMissed));
    } catch (error: unknown) {
      this.log.error({ err: error, jobId: entry.id }, 'onFire callback failed');
    }
  }

  private resyncAfterJump(jumpMs: number): void {
    this.log.warn({ jumpMs }, 'wall clock jump or sleep detected; re-arming every timer');
    const now = this.now();
    for (const entry of this.entries.values()) {
      if (entry.schedule) this.guard(entry, () => this.settle(entry, now));
    }
  }

  /** Runs one step for a job. A failure disarms that job and is logged and reported instead of thrown. */
  private guard(entry: Entry, step: () => void): void {
    try {
      step();
    } catch (error: unknown) {
      this.cancelTimer(entry);
      entry.schedule = null;
      entry.nextAt = null;
      const reported = error instanceof ScheduleError ? error : new ScheduleError('internal_error', 'scheduling this job failed unexpectedly', { cause: error });
      if (reported.code === 'invalid_schedule') this.log.warn({ jobId: entry.id, reason: reported.message }, 'job not scheduled: invalid schedule');
      else this.log.error({ err: error, jobId: entry.id }, 'job schedule failed; the job will not fire until it is saved or synced again');
      try {
        this.options.onScheduleError?.(entry.id, reported);
      } catch (callbackError: unknown) {
        this.log.error({ err: callbackError, jobId: entry.id }, 'onScheduleError callback failed');
      }
    }
  }
}

function checkMs(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!msOption.safeParse(value).success) {
    throw new ScheduleError('invalid_argument', `${name} must be a positive number of milliseconds, got ${String(value)}`);
  }
  return value;
}

function dateOrNull(instant: number | null): Date | null {
  return instant === null ? null : new Date(instant);
}
