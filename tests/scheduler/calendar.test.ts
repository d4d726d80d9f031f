import { describe, expect, it } from 'vitest';
import { civilFromDays, daysFromCivil, weekdayOf } from '../../electron/hub/scheduler/calendar.js';
import { fireInstants } from '../../electron/hub/scheduler/fire-times.js';
import { compileSchedule } from '../../electron/hub/scheduler/cron-spec.js';
import { Deadline, ScheduleError } from '../../electron/hub/scheduler/errors.js';
import { FiredRanges } from '../../electron/hub/scheduler/fired-ranges.js';
import { DAY } from './helpers.js';

describe('civil date arithmetic', () => {
  it('matches Date for 1600-2400', () => {
    const mismatches: string[] = [];

    for (let day = daysFromCivil(1600, 1, 1); day < daysFromCivil(2400, 1, 1); day += 1) {
      const date = new Date(day * DAY);
      const civil = civilFromDays(day);
      const expected = { year: date.getUTCFullYear(), month: date.getUTCMonth() + 1, day: date.getUTCDate() };
      if (civil.year !== expected.year || civil.month !== expected.month || civil.day !== expected.day) mismatches.push(`civil ${day}`);
      if (daysFromCivil(expected.year, expected.month, expected.day) !== day) mismatches.push(`days ${day}`);
      if (weekdayOf(day) !== date.getUTCDay()) mismatches.push(`weekday ${day}`);
    }

    expect(mismatches.slice(0, 10)).toEqual([]);
  });
});

describe('fire-time watchdog', () => {
  it('stops a search past its budget', () => {
    const compiled = compileSchedule({ cron: '* * * * * *', timezone: 'UTC' });
    if (!compiled.ok) throw new Error(compiled.reason);
    const expired = new Deadline(-1);

    const act = (): number[] => [...fireInstants(compiled.schedule, Date.parse('2026-01-01T00:00:00Z'), expired)];

    expect(act).toThrow(ScheduleError);
  });
});

describe('FiredRanges', () => {
  it('merges ranges that touch', () => {
    const ranges = new FiredRanges();

    ranges.add(10, 20);
    ranges.add(20, 30);
    ranges.add(50, 50);

    expect(ranges.containing(25)).toEqual({ from: 10, to: 30 });
    expect(ranges.containing(40)).toBeNull();
    expect(ranges.lastEndBefore(50)).toBe(30);
  });

  it('keeps a bounded number of ranges', () => {
    const ranges = new FiredRanges();

    for (let index = 0; index < 100; index += 1) ranges.add(index * 10, index * 10 + 1);

    expect(ranges.containing(0)).toBeNull();
    expect(ranges.containing(990)).toEqual({ from: 990, to: 991 });
  });
});
