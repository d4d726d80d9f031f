import { afterEach, describe, expect, it, vi } from 'vitest';
import { nextFireTimes } from '../../electron/hub/scheduler/index.js';
import { HOUR, iso, job, MINUTE, recordingScheduler, useFakeClock } from './helpers.js';

function next(cron: string, timezone: string, fromIso: string, count: number): string[] {
  return nextFireTimes({ cron, timezone }, count, new Date(fromIso)).map(iso);
}

describe('fire times across DST changes', () => {
  const cases: Array<{ name: string; cron: string; timezone: string; from: string; expected: string[] }> = [
    {
      name: 'weekly fixed time on spring-forward day',
      cron: '0 8 * * 0',
      timezone: 'America/Chicago',
      from: '2026-03-08T05:45:00Z',
      expected: ['2026-03-08T13:00:00.000Z', '2026-03-15T13:00:00.000Z'],
    },
    {
      name: 'skipped local time fires after gap',
      cron: '30 2 * * *',
      timezone: 'America/New_York',
      from: '2026-03-08T06:30:00Z',
      expected: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z'],
    },
    {
      name: 'several skipped times fire once',
      cron: '0,30 2 * * *',
      timezone: 'America/New_York',
      from: '2026-03-08T06:30:00Z',
      expected: ['2026-03-08T07:00:00.000Z', '2026-03-09T06:00:00.000Z'],
    },
    {
      name: 'Sunday after Rome spring forward',
      cron: '0 5 * * 0',
      timezone: 'Europe/Rome',
      from: '2025-03-29T00:00:00Z',
      expected: ['2025-03-30T03:00:00.000Z', '2025-04-06T03:00:00.000Z'],
    },
    {
      name: 'repeated local time fires once',
      cron: '30 1 * * *',
      timezone: 'America/New_York',
      from: '2026-11-01T04:00:00Z',
      expected: ['2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z'],
    },
    {
      name: 'midnight skipped in Sao Paulo',
      cron: '0 0 * * *',
      timezone: 'America/Sao_Paulo',
      from: '2018-11-03T15:00:00Z',
      expected: ['2018-11-04T03:00:00.000Z', '2018-11-05T02:00:00.000Z'],
    },
    {
      name: 'evening before a US change',
      cron: '45 21 * * *',
      timezone: 'America/New_York',
      from: '2026-03-07T15:00:00Z',
      expected: ['2026-03-08T02:45:00.000Z', '2026-03-09T01:45:00.000Z'],
    },
    {
      name: 'hourly runs through repeated hour',
      cron: '0 * * * *',
      timezone: 'America/New_York',
      from: '2026-11-01T04:30:00Z',
      expected: ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z'],
    },
    {
      name: 'interval skips the missing hour',
      cron: '*/20 * * * *',
      timezone: 'America/New_York',
      from: '2026-03-08T06:30:00Z',
      expected: ['2026-03-08T06:40:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:20:00.000Z'],
    },
    {
      name: 'half-hour shift on Lord Howe',
      cron: '15 2 * * *',
      timezone: 'Australia/Lord_Howe',
      // Clocks go from 02:00 to 02:30 on 4 October 2026 local, at 2026-10-03T15:30Z (+10:30 to +11).
      from: '2026-10-03T12:00:00Z',
      expected: ['2026-10-03T15:30:00.000Z', '2026-10-04T15:15:00.000Z'],
    },
  ];

  it.each(cases)('$name', ({ cron, timezone, from, expected }) => {
    const fires = next(cron, timezone, from, expected.length);

    expect(fires).toEqual(expected);
  });
});

describe('scheduler timers across DST changes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('fires every 5 minutes through repeated hour', () => {
    useFakeClock('2026-10-25T00:00:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('brussels', '*/5 * * * *', {}, 'Europe/Brussels'));

    vi.advanceTimersByTime(2 * HOUR);
    scheduler.stop();

    expect(fires).toHaveLength(24);
    const times = fires.map((fire) => Date.parse(fire.fireDate));
    const gaps = new Set(times.slice(1).map((time, index) => time - (times[index] as number)));
    expect([...gaps]).toEqual([5 * MINUTE]);
    expect(fires.every((fire) => fire.firedAt === fire.fireDate)).toBe(true);
  });

  it('fires repeated local time once', () => {
    useFakeClock('2026-11-01T04:00:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('new-york', '30 1 * * *', {}, 'America/New_York'));

    vi.advanceTimersByTime(4 * HOUR);
    scheduler.stop();

    expect(fires.map((fire) => fire.firedAt)).toEqual(['2026-11-01T05:30:00.000Z']);
  });

  it('fires skipped local time once', () => {
    useFakeClock('2026-03-08T06:30:00Z');
    const { scheduler, fires } = recordingScheduler();
    scheduler.upsert(job('new-york', '30 2 * * *', {}, 'America/New_York'));

    vi.advanceTimersByTime(24 * HOUR);
    scheduler.stop();

    expect(fires.map((fire) => fire.firedAt)).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it.each([
    { cron: '30 2 * * *', timezone: 'America/New_York', at: '2026-03-08T06:30:00Z' },
    { cron: '0 0 * * *', timezone: 'America/Sao_Paulo', at: '2018-11-03T15:00:00Z' },
    { cron: '*/5 * * * *', timezone: 'Europe/Brussels', at: '2026-10-25T00:57:00Z' },
    { cron: '30 1 * * *', timezone: 'America/New_York', at: '2026-11-01T05:31:00Z' },
  ])('timer matches preview for $cron in $timezone', ({ cron, timezone, at }) => {
    useFakeClock(at);
    const { scheduler } = recordingScheduler();

    scheduler.upsert(job('preview', cron, {}, timezone));
    const armed = scheduler.nextFire('preview');
    scheduler.stop();

    expect(armed).toEqual(nextFireTimes({ cron, timezone }, 1, new Date(at))[0]);
  });
});
