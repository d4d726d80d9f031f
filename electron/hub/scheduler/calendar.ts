/**
 * Cron field matching on local wall-clock time, with no time zone involved.
 *
 * A wall time is stored as milliseconds since 1970-01-01T00:00 of the local
 * calendar, as if that calendar were UTC, and a day as a day number since
 * 1970-01-01. Dates are proleptic Gregorian and computed with integer
 * arithmetic, so every search here is bounded and never depends on Date or
 * Intl. Mapping wall times to real instants is done in fire-times.ts.
 */
import type { Deadline } from './errors.js';

export const SECOND_MS = 1000;
export const DAY_MS = 86_400_000;

/** A full Gregorian cycle: every calendar pattern of weekdays, leap years and month lengths repeats after it. */
const GREGORIAN_CYCLE_DAYS = 146_097;
/** Search limit for the next matching day: longer than one Gregorian cycle, so a pattern that exists is always found. */
const MAX_SEARCH_DAYS = GREGORIAN_CYCLE_DAYS + 400;
const DEADLINE_EVERY = 2048;

export interface CivilDate {
  year: number;
  /** 1-12 */
  month: number;
  /** 1-31 */
  day: number;
}

/** Converts a civil date to its day number (days since 1970-01-01). */
export function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * GREGORIAN_CYCLE_DAYS + dayOfEra - 719_468;
}

/** Converts a day number (days since 1970-01-01) to its civil date. */
export function civilFromDays(dayNumber: number): CivilDate {
  const z = dayNumber + 719_468;
  const era = Math.floor(z / GREGORIAN_CYCLE_DAYS);
  const dayOfEra = z - era * GREGORIAN_CYCLE_DAYS;
  const yearOfEra = Math.floor((dayOfEra - Math.floor(dayOfEra / 1460) + Math.floor(dayOfEra / 36_524) - Math.floor(dayOfEra / 146_096)) / 365);
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100));
  const monthIndex = Math.floor((5 * dayOfYear + 2) / 153);
  const day = dayOfYear - Math.floor((153 * monthIndex + 2) / 5) + 1;
  const month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return { year, month, day };
}

export function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

const MONTH_DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

export function daysInMonth(year: number, month: number): number {
  return month === 2 && isLeapYear(year) ? 29 : (MONTH_DAYS[month - 1] ?? 31);
}

/** Day of the week of a day number, 0 = Sunday (1970-01-01 was a Thursday). */
export function weekdayOf(dayNumber: number): number {
  return (((dayNumber + 4) % 7) + 7) % 7;
}

/** The value sets of a parsed cron expression, after names and ranges are expanded. */
export interface CronFields {
  seconds: readonly number[];
  minutes: readonly number[];
  hours: readonly number[];
  daysOfMonth: readonly number[];
  /** `L` in the day-of-month field: the last day of each month. */
  lastDayOfMonth: boolean;
  months: readonly number[];
  /** 0-6, Sunday = 0. */
  daysOfWeek: readonly number[];
  /** `5L` in the day-of-week field: the last Friday of the month, and so on. */
  lastWeekdaysOfMonth: readonly number[];
  /** `1#2` in the day-of-week field: the second Monday of the month. */
  nthWeekday: { weekday: number; nth: number } | null;
  /**
   * Whether the day-of-month or day-of-week field begins with `*` or is `?`.
   * As in Vixie cron, when either does, a day must match both fields; when
   * neither does, matching either field is enough.
   */
  dayOfMonthStar: boolean;
  dayOfWeekStar: boolean;
}

/** For each value v of a field, the smallest allowed value >= v, or -1. */
function nextValueTable(values: readonly number[], max: number): Int16Array {
  const table = new Int16Array(max + 2).fill(-1);
  const allowed = new Set(values);
  let next = -1;
  for (let value = max; value >= 0; value -= 1) {
    if (allowed.has(value)) next = value;
    table[value] = next;
  }
  return table;
}

function flags(values: readonly number[], size: number): boolean[] {
  const result = new Array<boolean>(size).fill(false);
  for (const value of values) result[value] = true;
  return result;
}

/** Finds matching wall times of one cron expression. */
export class CalendarMatcher {
  private readonly nextSecond: Int16Array;
  private readonly nextMinute: Int16Array;
  private readonly nextHour: Int16Array;
  private readonly firstSecond: number;
  private readonly firstMinute: number;
  private readonly month: boolean[];
  private readonly dayOfMonth: boolean[];
  private readonly dayOfWeek: boolean[];
  private readonly lastWeekday: boolean[];

  constructor(private readonly fields: CronFields) {
    this.nextSecond = nextValueTable(fields.seconds, 59);
    this.nextMinute = nextValueTable(fields.minutes, 59);
    this.nextHour = nextValueTable(fields.hours, 23);
    this.firstSecond = this.nextSecond[0] ?? -1;
    this.firstMinute = this.nextMinute[0] ?? -1;
    this.month = flags(fields.months, 13);
    this.dayOfMonth = flags(fields.daysOfMonth, 32);
    this.dayOfWeek = flags(fields.daysOfWeek, 7);
    this.lastWeekday = flags(fields.lastWeekdaysOfMonth, 7);
  }

  /** Checks whether the date fields (day of month, month, day of week) match this day. */
  matchesDay(dayNumber: number): boolean {
    const { year, month, day } = civilFromDays(dayNumber);
    return this.month[month] === true && this.matchesDate(day, weekdayOf(dayNumber), daysInMonth(year, month));
  }

  /** Checks whether the day-of-month and day-of-week fields match a day of an allowed month. */
  private matchesDate(day: number, weekday: number, monthLength: number): boolean {
    const nth = this.fields.nthWeekday;
    const dayOfMonthMatch = this.dayOfMonth[day] === true || (this.fields.lastDayOfMonth && day === monthLength);
    const dayOfWeekMatch =
      this.dayOfWeek[weekday] === true ||
      (this.lastWeekday[weekday] === true && day + 7 > monthLength) ||
      (nth !== null && nth.weekday === weekday && Math.ceil(day / 7) === nth.nth);
    if (this.fields.dayOfMonthStar || this.fields.dayOfWeekStar) return dayOfMonthMatch && dayOfWeekMatch;
    return dayOfMonthMatch || dayOfWeekMatch;
  }

  /** Returns the first matching second of the day at or after `secondOfDay`, or -1 when none is left that day. */
  nextTimeOfDay(secondOfDay: number): number {
    const hour0 = Math.floor(secondOfDay / 3600);
    const minute0 = Math.floor((secondOfDay % 3600) / 60);
    const second0 = secondOfDay % 60;
    let hour = this.nextHour[hour0] ?? -1;
    if (hour === -1) return -1;
    if (hour > hour0) return hour * 3600 + this.firstMinute * 60 + this.firstSecond;

    let minute = this.nextMinute[minute0] ?? -1;
    if (minute === minute0) {
      const second = this.nextSecond[second0] ?? -1;
      if (second !== -1) return hour * 3600 + minute * 60 + second;
      minute = this.nextMinute[minute0 + 1] ?? -1;
    }
    if (minute !== -1) return hour * 3600 + minute * 60 + this.firstSecond;

    hour = this.nextHour[hour0 + 1] ?? -1;
    return hour === -1 ? -1 : hour * 3600 + this.firstMinute * 60 + this.firstSecond;
  }

  /**
   * Finds the first matching wall time at or after `fromWall` (rounded up to
   * a whole second) and before `beforeWall`, or null when there is none.
   */
  nextWall(fromWall: number, beforeWall: number, deadline: Deadline): number | null {
    const start = Math.ceil(fromWall / SECOND_MS) * SECOND_MS;
    let day = Math.floor(start / DAY_MS);
    let secondOfDay = (start - day * DAY_MS) / SECOND_MS;
    const lastDay = Math.min(Math.floor((beforeWall - 1) / DAY_MS), day + MAX_SEARCH_DAYS);

    for (let step = 1; day <= lastDay; step += 1) {
      if (step % DEADLINE_EVERY === 0) deadline.check();
      const { year, month } = civilFromDays(day);
      if (!this.month[month]) {
        day = daysFromCivil(month === 12 ? year + 1 : year, month === 12 ? 1 : month + 1, 1);
        secondOfDay = 0;
        continue;
      }
      if (this.matchesDay(day)) {
        const time = this.nextTimeOfDay(secondOfDay);
        if (time !== -1) {
          const wall = day * DAY_MS + time * SECOND_MS;
          return wall < beforeWall ? wall : null;
        }
      }
      day += 1;
      secondOfDay = 0;
    }
    return null;
  }

  /** Checks whether any day in a full Gregorian cycle matches the date fields, so the expression can fire at all. */
  canEverMatchDay(deadline: Deadline): boolean {
    for (let year = 2000; year < 2400; year += 1) {
      deadline.check();
      for (let month = 1; month <= 12; month += 1) {
        if (!this.month[month]) continue;
        const firstWeekday = weekdayOf(daysFromCivil(year, month, 1));
        const monthLength = daysInMonth(year, month);
        for (let day = 1; day <= monthLength; day += 1) {
          if (this.matchesDate(day, (firstWeekday + day - 1) % 7, monthLength)) return true;
        }
      }
    }
    return false;
  }
}
