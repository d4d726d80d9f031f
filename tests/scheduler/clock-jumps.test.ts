import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../electron/hub/scheduler/index.js';
import { captureLogger, HOUR, iso, job, MINUTE, recordingScheduler, useFakeClock } from './helpers.js';

const SECOND = 1000;

/** Moves only the wall clock, as a sleep or a change of system time does. */
function jumpWallClock(byMs: number): void {
  vi.setSystemTime(Date.now() + byMs);
}

describe('scheduler after sleep', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    { catchUp: 'once' as const, kinds: ['catch_up'], missed: 0 },
    { catchUp: 'none' as const, kinds: [], missed: 1 },
  ])('applies catch-up $catchUp to a missed job', ({ catchUp, kinds, missed }) => {
    useFakeClock('2026-06-10T12:00:00Z');
    const { scheduler, fires, misses } = recordingScheduler();
    // Due 20 s after start, and a later job 2 minutes after start.
    scheduler.upsert(job('soon', '20 0 12 10 6 *', { catchUp }));
    scheduler.upsert(job('later', '0 2 12 10 6 *'));

    vi.advanceTimersByTime(5 * SECOND);
    jumpWallClock(60 * SECOND);
    vi.advanceTimersByTime(5 * SECOND);
    const soonFires = fires.filter((fire) => fire.jobId === 'soon');
    vi.advanceTimersByTime(2 * MINUTE);
    scheduler.stop();

    expect(soonFires.map((fire) => fire.kind)).toEqual(kinds);
    expect(soonFires.every((fire) => fire.missedCount === 1)).toBe(true);
    expect(misses.filter((miss) => miss.jobId === 'soon')).toHaveLength(missed);
    expect(fires.filter((fire) => fire.jobId === 'later').map((fire) => fire.firedAt)).toEqual(['2026-06-10T12:02:00.000Z']);
  });

  it('detects sleep without OS events', () => {
    useFakeClock('2026-06-10T12:00:00Z');
    const { scheduler, lines } = recordingScheduler({ clockCheckIntervalMs: 30 * SECOND });
    scheduler.upsert(job('a', '0 * * * *'));

    jumpWallClock(10 * MINUTE);
    vi.advanceTimersByTime(30 * SECOND);
    scheduler.stop();

    const detected = lines.filter((line) => line.msg === 'wall clock jump or sleep detected; re-arming every timer');
    expect(detected.map((line) => line.jumpMs)).toEqual([10 * MINUTE]);
  });
});

describe('scheduler catch-up', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('catches up downtime once per job', () => {
    useFakeClock('2026-06-10T13:00:00Z');
    const { scheduler, fires, misses } = recordingScheduler();
    const jobs = Array.from({ length: 20 }, (_, index) => job(`job-${index}`, '*/5 * * * *', { catchUp: index % 2 === 0 ? 'once' : 'none' }));
    scheduler.sync(jobs);

    scheduler.catchUp(Date.parse('2026-06-10T01:00:00Z'));

    expect(fires).toHaveLength(10);
    expect(fires.every((fire) => fire.kind === 'catch_up' && fire.missedCount === 144)).toBe(true);
    expect(fires.every((fire) => fire.fireDate === '2026-06-10T13:00:00.000Z')).toBe(true);
    expect(misses).toHaveLength(10);
    expect(misses.every((miss) => miss.missedCount === 144 && miss.firstMissed === '2026-06-10T01:05:00.000Z')).toBe(true);
    scheduler.stop();
  });

  it('does not repeat the armed fire', () => {
    useFakeClock('2026-06-10T13:00:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.sync([job('a', '*/5 * * * *', { catchUp: 'once' })]);

    vi.advanceTimersByTime(5 * MINUTE);
    scheduler.catchUp(Date.parse('2026-06-10T12:00:00Z'));
    vi.advanceTimersByTime(5 * MINUTE);
    scheduler.stop();

    expect(fires.map((fire) => [fire.kind, fire.fireDate])).toEqual([
      ['scheduled', '2026-06-10T13:05:00.000Z'],
      ['catch_up', '2026-06-10T13:00:00.000Z'],
      ['scheduled', '2026-06-10T13:10:00.000Z'],
    ]);
  });

  it('catches up a forward jump once', () => {
    useFakeClock('2026-06-10T01:00:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('a', '*/5 * * * *', { catchUp: 'once' }));

    jumpWallClock(HOUR);
    vi.advanceTimersByTime(10 * MINUTE);
    scheduler.stop();

    expect(fires.map((fire) => [fire.kind, fire.fireDate, fire.missedCount])).toEqual([
      ['catch_up', '2026-06-10T02:00:00.000Z', 12],
      ['scheduled', '2026-06-10T02:05:00.000Z', 0],
      ['scheduled', '2026-06-10T02:10:00.000Z', 0],
    ]);
  });

  it('ignores a future last-alive time', () => {
    useFakeClock('2026-06-10T13:00:00Z');
    const { scheduler, fires, misses } = recordingScheduler();
    scheduler.sync([job('a', '*/5 * * * *', { catchUp: 'once' })]);

    scheduler.catchUp(Date.parse('2026-06-10T14:00:00Z'));
    scheduler.stop();

    expect(fires).toEqual([]);
    expect(misses).toEqual([]);
  });
});

describe('scheduler after clock set back', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('resumes without stall or repeats', () => {
    useFakeClock('2026-06-10T12:00:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('minute', '* * * * *', { catchUp: 'once' }));
    scheduler.upsert(job('one-off', '0 12 11 6 *', { catchUp: 'once' }));

    jumpWallClock(24 * HOUR);
    vi.advanceTimersByTime(2 * MINUTE + 30 * SECOND);
    jumpWallClock(-2 * HOUR);
    vi.advanceTimersByTime(10 * SECOND);
    const resumedAt = fires.filter((fire) => fire.jobId === 'minute').at(-1)?.firedAt;
    vi.advanceTimersByTime(2 * HOUR + 5 * MINUTE);
    scheduler.stop();

    const minute = fires.filter((fire) => fire.jobId === 'minute');
    const oneOff = fires.filter((fire) => fire.jobId === 'one-off');
    expect(oneOff.map((fire) => fire.fireDate)).toEqual(['2026-06-11T12:00:00.000Z']);
    expect(resumedAt).toBe('2026-06-11T12:02:00.000Z');
    expect(minute.find((fire) => Date.parse(fire.firedAt) < Date.parse('2026-06-11T12:00:00Z'))?.fireDate).toBe('2026-06-11T10:03:00.000Z');
    expect(new Set(minute.map((fire) => fire.fireDate)).size).toBe(minute.length);
    expect(minute.filter((fire) => fire.kind === 'catch_up')).toHaveLength(1);
    // One catch-up for the jump ahead, 12:01-12:02, then 10:03-11:59 and 12:03-12:07 after the jump back.
    expect(minute).toHaveLength(1 + 2 + 117 + 5);
    expect(minute.at(-1)?.fireDate).toBe('2026-06-11T12:07:00.000Z');
  });

  it('fires at the next wall-clock minute', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('minute', '* * * * *'));

    jumpWallClock(-2 * HOUR);
    vi.advanceTimersByTime(30 * SECOND);
    scheduler.stop();

    expect(fires.map((fire) => fire.firedAt)).toEqual(['2026-06-10T10:01:00.000Z']);
  });

  it('never fires an instant twice', () => {
    useFakeClock('2026-06-10T11:59:50Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('noon', '0 12 * * *'));

    vi.advanceTimersByTime(20 * SECOND);
    jumpWallClock(-5 * MINUTE);
    vi.advanceTimersByTime(10 * MINUTE);
    const armed = scheduler.nextFire('noon');
    scheduler.stop();

    expect(fires.map((fire) => fire.fireDate)).toEqual(['2026-06-10T12:00:00.000Z']);
    expect(armed?.toISOString()).toBe('2026-06-11T12:00:00.000Z');
  });
});

describe('scheduler watchdog', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fails the job, not the hub', () => {
    const { logger, lines } = captureLogger();
    const errors: string[] = [];
    const slow = new Scheduler({ logger, onFire: () => undefined, onScheduleError: (_, error) => errors.push(error.code), computeBudgetMs: 1e-9 });
    const healthy = recordingScheduler();

    slow.upsert(job('a', '* * * * *'));
    healthy.scheduler.upsert(job('b', '* * * * *'));
    const counts = [slow.registeredCount(), healthy.scheduler.registeredCount()];
    slow.stop();
    healthy.scheduler.stop();

    expect(errors).toEqual(['compute_timeout']);
    expect(counts).toEqual([0, 1]);
    expect(lines.some((line) => line.level >= 50 && line.jobId === 'a')).toBe(true);
  });

  it('validates its options', () => {
    const act = (): unknown => new Scheduler({ onFire: () => undefined, clockCheckIntervalMs: 0 });

    expect(act).toThrow(/clockCheckIntervalMs must be a positive number of milliseconds, got 0/);
  });

  it('reports onFire failures and continues', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { logger, lines } = captureLogger();
    let calls = 0;
    const scheduler = new Scheduler({
      logger,
      onFire: () => {
        calls += 1;
        throw new Error('run manager failed');
      },
    });
    scheduler.upsert(job('a', '* * * * *'));

    vi.advanceTimersByTime(2 * MINUTE);
    const armed = scheduler.registeredCount();
    scheduler.stop();

    expect(calls).toBe(2);
    expect(armed).toBe(1);
    expect(lines.filter((line) => line.msg === 'onFire callback failed')).toHaveLength(2);
    expect(iso(Date.now())).toBe('2026-06-10T12:02:30.000Z');
  });
});
