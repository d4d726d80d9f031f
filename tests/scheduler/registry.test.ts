import schedule from 'node-schedule';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Scheduler } from '../../electron/hub/scheduler/index.js';
import { captureLogger, DAY, HOUR, job, MINUTE, recordingScheduler, useFakeClock } from './helpers.js';

/** Counts the timers registered with node-schedule in this worker, where only the scheduler under test creates any. */
function nodeScheduleTimers(): number {
  return Object.keys(schedule.scheduledJobs).length;
}

describe('scheduler registry', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps one timer per job through edits', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { scheduler } = recordingScheduler();
    const counts: number[] = [];
    const record = (): void => {
      counts.push(scheduler.registeredCount(), nodeScheduleTimers());
    };

    scheduler.upsert(job('a', '* * * * *'));
    record();
    for (const cron of ['*/2 * * * *', '*/3 * * * *', '5 * * * *', '0 0 * * *', '* * * * *']) {
      scheduler.upsert(job('a', cron));
      record();
    }
    scheduler.upsert(job('a', '* * * * *', { enabled: false }));
    const disabled = [scheduler.registeredCount(), nodeScheduleTimers()];
    scheduler.upsert(job('a', '* * * * *'));
    record();
    scheduler.remove('a');
    const deleted = [scheduler.registeredCount(), nodeScheduleTimers()];

    expect(counts).toEqual(new Array<number>(14).fill(1));
    expect(disabled).toEqual([0, 0]);
    expect(deleted).toEqual([0, 0]);
  });

  it('fires once per tick after edits', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { scheduler, fires } = recordingScheduler();
    for (const cron of ['*/2 * * * *', '*/3 * * * *', '5 * * * *', '0 0 * * *', '* * * * *']) scheduler.upsert(job('a', cron));

    vi.advanceTimersByTime(3 * MINUTE);
    scheduler.stop();

    expect(fires.map((fire) => fire.fireDate)).toEqual(['2026-06-10T12:01:00.000Z', '2026-06-10T12:02:00.000Z', '2026-06-10T12:03:00.000Z']);
  });

  it('never fires disabled or deleted jobs', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.sync([job('disabled', '* * * * *'), job('deleted', '* * * * *'), job('kept', '* * * * *')]);

    scheduler.upsert(job('disabled', '* * * * *', { enabled: false }));
    scheduler.sync([job('disabled', '* * * * *', { enabled: false }), job('kept', '* * * * *')]);
    vi.advanceTimersByTime(5 * MINUTE);
    scheduler.stop();

    expect(new Set(fires.map((fire) => fire.jobId))).toEqual(new Set(['kept']));
    expect(fires).toHaveLength(5);
  });

  it('sync is idempotent', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { scheduler, fires } = recordingScheduler();
    const jobs = [job('a', '* * * * *'), job('b', '*/2 * * * *'), job('manual', '* * * * *', { schedule: null })];

    for (let round = 0; round < 5; round += 1) scheduler.sync(jobs);
    const count = scheduler.registeredCount();
    vi.advanceTimersByTime(2 * MINUTE);
    scheduler.stop();

    expect(count).toBe(2);
    expect(nodeScheduleTimers()).toBe(0);
    expect(fires.filter((fire) => fire.jobId === 'a')).toHaveLength(2);
    expect(fires.filter((fire) => fire.jobId === 'b')).toHaveLength(1);
  });

  it('reports an invalid schedule without a timer', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const { scheduler, errors } = recordingScheduler();

    scheduler.sync([job('bad', '0 0 30 2 *'), job('good', '* * * * *')]);
    const count = scheduler.registeredCount();
    scheduler.stop();

    expect(count).toBe(1);
    expect(errors).toEqual([{ jobId: 'bad', code: 'invalid_schedule' }]);
  });

  it('stops when onFire removes the job', () => {
    useFakeClock('2026-06-10T12:00:30Z');
    const fired: string[] = [];
    const scheduler: Scheduler = new Scheduler({
      logger: captureLogger().logger,
      onFire: (jobId, fireDate) => {
        fired.push(fireDate.toISOString());
        scheduler.remove(jobId);
      },
    });
    scheduler.upsert(job('a', '* * * * *'));

    vi.advanceTimersByTime(30_000);
    const counts = [scheduler.registeredCount(), nodeScheduleTimers()];
    vi.advanceTimersByTime(3 * MINUTE);
    scheduler.stop();

    expect(fired).toEqual(['2026-06-10T12:01:00.000Z']);
    expect(counts).toEqual([0, 0]);
  });

  it('rejects malformed jobs', () => {
    const { scheduler } = recordingScheduler();

    const act = (): void => scheduler.upsert({ id: '', enabled: true, schedule: null, catchUp: 'none' });

    expect(act).toThrow(/scheduler job is invalid/);
    scheduler.stop();
  });
});

describe('scheduler long delays', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it.each([
    { name: 'monthly job from the 2nd', cron: '0 4 1 * *', start: '2026-03-02T00:00:00Z', due: '2026-04-01T04:00:00Z' },
    { name: 'yearly job from 2 January', cron: '0 0 1 1 *', start: '2026-01-02T00:00:00Z', due: '2027-01-01T00:00:00Z' },
  ])('fires $name exactly at due', ({ cron, start, due }) => {
    useFakeClock(start);
    const { scheduler, fires } = recordingScheduler({ clockCheckIntervalMs: 6 * HOUR });
    scheduler.upsert(job('long', cron));

    vi.advanceTimersByTime(Date.parse(due) - Date.parse(start) - 1);
    const beforeDue = fires.length;
    vi.advanceTimersByTime(1);
    const atDue = fires.map((fire) => fire.firedAt);
    vi.advanceTimersByTime(DAY);
    scheduler.stop();

    expect(beforeDue).toBe(0);
    expect(atDue).toEqual([new Date(due).toISOString()]);
    expect(fires).toHaveLength(1);
  });

  it('arms far timers without overflow warning', async () => {
    const warnings: string[] = [];
    const onWarning = (warning: Error): void => {
      warnings.push(warning.name);
    };
    process.on('warning', onWarning);
    const { scheduler } = recordingScheduler();
    const due = new Date(Date.now() + 60 * DAY);

    scheduler.upsert(job('far', `0 ${due.getUTCMinutes()} ${due.getUTCHours()} ${due.getUTCDate()} ${due.getUTCMonth() + 1} *`));
    const armed = scheduler.nextFire('far');
    await new Promise((resolve) => setTimeout(resolve, 50));
    scheduler.stop();
    process.off('warning', onWarning);

    expect(armed?.getTime()).toBeGreaterThan(Date.now() + 50 * DAY);
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });
});

describe('scheduler seconds field', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires every 2 seconds', () => {
    useFakeClock('2026-06-10T12:00:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('seconds', '*/2 * * * * *'));

    vi.advanceTimersByTime(10_000);
    scheduler.stop();

    expect(fires.map((fire) => fire.firedAt)).toEqual([
      '2026-06-10T12:00:02.000Z',
      '2026-06-10T12:00:04.000Z',
      '2026-06-10T12:00:06.000Z',
      '2026-06-10T12:00:08.000Z',
      '2026-06-10T12:00:10.000Z',
    ]);
  });

  it('fires on real timers', async () => {
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('every-second', '*/1 * * * * *'));

    await new Promise((resolve) => setTimeout(resolve, 2500));
    scheduler.stop();

    expect(fires.length).toBeGreaterThanOrEqual(2);
    expect(fires.every((fire) => fire.kind === 'scheduled')).toBe(true);
  });
});
