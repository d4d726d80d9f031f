import { describe, expect, it } from 'vitest';
import { checkSchedule, nextFireTimes, ScheduleError } from '../../electron/hub/scheduler/index.js';

const from = new Date('2026-01-01T00:00:00Z');

describe('checkSchedule rejections', () => {
  const cases: Array<{ cron: string; timezone?: string; reason: string }> = [
    { cron: '', reason: 'the cron expression is empty' },
    { cron: '   ', reason: 'the cron expression is empty' },
    { cron: '* * * *', reason: 'has 4 fields; expected 5 fields' },
    { cron: '0 0 0 * * * *', reason: 'has 7 fields' },
    { cron: '61 * * * *', reason: 'minute field "61": 61 is out of range: minutes go from 0 to 59' },
    { cron: '0 24 * * *', reason: 'hour field "24": 24 is out of range' },
    { cron: '0 0 0 * *', reason: 'day-of-month field "0": 0 is out of range' },
    { cron: '0 0 * 13 *', reason: 'month field "13": 13 is out of range' },
    { cron: '0 0 * * 8', reason: 'day-of-week field "8": 8 is out of range' },
    { cron: '60 * * * * *', reason: 'second field "60"' },
    { cron: '@every 5m', reason: '"@every 5m" is not a known shortcut' },
    { cron: '@reboot', reason: '"@reboot" is not supported' },
    { cron: '*/0 * * * *', reason: 'minute field "*/0": the step "0" after "/" must be a whole number of at least 1' },
    { cron: '5-2 * * * *', reason: 'minute field "5-2": the range 5-2 runs backwards' },
    { cron: '1,,2 * * * *', reason: 'minute field "1,,2": the list has an empty item' },
    { cron: '1.5 * * * *', reason: 'minute field "1.5": "1.5" is not a number' },
    { cron: '0 0 * foo *', reason: 'month field "foo": "foo" is not a known name' },
    { cron: '? * * * *', reason: 'minute field "?": "?" is allowed only in the day-of-month and day-of-week fields' },
    { cron: '0 0 * * L', reason: 'day-of-week field "L": "L" needs a weekday before it' },
    { cron: '0 0 * * 1#6', reason: 'the occurrence after "#" must be 1 to 5' },
    { cron: '0 0 * * 1#2,3', reason: 'a "#" day cannot be combined with other days' },
    { cron: '0 0 30 2 *', reason: 'day 30 never occurs in February, so this schedule can never fire' },
    { cron: '0 0 31 4 *', reason: 'day 31 never occurs in April, so this schedule can never fire' },
    { cron: '0 0 31 2,4,6 *', reason: 'day 31 never occurs in February, April or June, so this schedule can never fire' },
    { cron: '0 0 4 30 2 *', reason: 'day 30 never occurs in February, so this schedule can never fire' },
    { cron: '0 0 30,31 2 *', reason: 'days 30 and 31 never occur in February' },
    { cron: '0 0 */30 2 1#5', reason: 'no date matches the day-of-month, month and day-of-week fields together' },
    { cron: '0 0 * * *', timezone: 'Mars/Olympus_Mons', reason: 'time zone "Mars/Olympus_Mons" is unknown' },
    { cron: '0 0 * * *', timezone: ' ', reason: 'the time zone is empty' },
  ];

  it.each(cases)('rejects "$cron"', ({ cron, timezone, reason }) => {
    const check = checkSchedule({ cron, timezone: timezone ?? 'UTC' }, { from });

    expect(check.ok).toBe(false);
    expect(check.ok ? '' : check.reason).toContain(reason);
  });
});

describe('checkSchedule accepted schedules', () => {
  const cases: Array<{ cron: string; timezone?: string; next: string[] }> = [
    { cron: '0 0 29 2 *', next: ['2028-02-29T00:00:00.000Z', '2032-02-29T00:00:00.000Z'] },
    { cron: '0 0 31 4,5 *', next: ['2026-05-31T00:00:00.000Z', '2027-05-31T00:00:00.000Z'] },
    { cron: '*/2 * * * * *', next: ['2026-01-01T00:00:02.000Z', '2026-01-01T00:00:04.000Z'] },
    { cron: '0 0 L 2 *', next: ['2026-02-28T00:00:00.000Z', '2027-02-28T00:00:00.000Z', '2028-02-29T00:00:00.000Z'] },
    { cron: '0 12 * * 5L', next: ['2026-01-30T12:00:00.000Z', '2026-02-27T12:00:00.000Z'] },
    { cron: '0 0 * 2 1#5', next: ['2044-02-29T00:00:00.000Z'] },
    { cron: '0 9 * * mon-fri', next: ['2026-01-01T09:00:00.000Z', '2026-01-02T09:00:00.000Z', '2026-01-05T09:00:00.000Z'] },
    // Both day fields restricted: either may match (Vixie cron).
    { cron: '0 0 13 * 5', next: ['2026-01-02T00:00:00.000Z', '2026-01-09T00:00:00.000Z', '2026-01-13T00:00:00.000Z'] },
    // A day field that begins with "*" makes both fields required.
    { cron: '0 0 */2 * 1', next: ['2026-01-05T00:00:00.000Z', '2026-01-19T00:00:00.000Z', '2026-02-09T00:00:00.000Z'] },
    { cron: '@daily', next: ['2026-01-02T00:00:00.000Z'] },
    { cron: '  0 0 1 1 *  ', next: ['2027-01-01T00:00:00.000Z'] },
    { cron: '0 0 * * *', timezone: 'US/Eastern', next: ['2026-01-01T05:00:00.000Z'] },
  ];

  it.each(cases)('accepts "$cron"', ({ cron, timezone, next }) => {
    const check = checkSchedule({ cron, timezone: timezone ?? 'UTC' }, { from, count: next.length });

    expect(check.ok).toBe(true);
    expect(check.ok ? check.next.map((date) => date.toISOString()) : []).toEqual(next);
  });

  it('defaults to five fire times', () => {
    const check = checkSchedule({ cron: '0 * * * *', timezone: 'UTC' }, { from });

    expect(check.ok ? check.next.length : 0).toBe(5);
  });
});

describe('checkSchedule arguments', () => {
  it.each([0, -1, 1.5, 1001, Number.NaN])('rejects count %s', (count) => {
    const act = (): unknown => checkSchedule({ cron: '* * * * *', timezone: 'UTC' }, { count });

    expect(act).toThrow(ScheduleError);
  });

  it('rejects an invalid from date', () => {
    const act = (): unknown => checkSchedule({ cron: '* * * * *', timezone: 'UTC' }, { from: new Date(Number.NaN) });

    expect(act).toThrow(/from must be a valid Date/);
  });
});

describe('nextFireTimes', () => {
  it('throws the reason for invalid schedules', () => {
    const act = (): unknown => nextFireTimes({ cron: '0 0 30 2 *', timezone: 'UTC' }, 3, from);

    expect(act).toThrow(/day 30 never occurs in February/);
  });

  it('returns fires strictly after from', () => {
    const next = nextFireTimes({ cron: '0 0 * * *', timezone: 'UTC' }, 2, new Date('2026-01-01T00:00:00Z'));

    expect(next.map((date) => date.toISOString())).toEqual(['2026-01-02T00:00:00.000Z', '2026-01-03T00:00:00.000Z']);
  });

  it('agrees with checkSchedule previews', () => {
    const schedule = { cron: '30 2 * * *', timezone: 'America/New_York' };
    const start = new Date('2026-03-07T00:00:00Z');

    const check = checkSchedule(schedule, { from: start, count: 4 });
    const next = nextFireTimes(schedule, 4, start);

    expect(check.ok ? check.next : []).toEqual(next);
  });
});
