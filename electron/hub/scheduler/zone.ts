/**
 * UTC offsets of IANA time zones, read from Intl.DateTimeFormat (the ICU
 * data bundled with Node), and the spans of constant offset between
 * transitions.
 */
import { daysFromCivil, DAY_MS, SECOND_MS } from './calendar.js';
import type { Deadline } from './errors.js';

/** A stretch of time with one UTC offset: [start, end) in epoch ms. */
export interface OffsetSpan {
  start: number;
  end: number;
  /** Local wall time minus UTC, in ms. */
  offset: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
const MAX_CACHED_FORMATTERS = 1000;

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    if (formatters.size >= MAX_CACHED_FORMATTERS) formatters.clear();
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Checks whether Intl accepts this time zone name (IANA names and their aliases, such as "UTC" or "US/Eastern"). */
export function isKnownTimeZone(timeZone: string): boolean {
  if (timeZone.trim() === '') return false;
  try {
    formatterFor(timeZone);
    return true;
  } catch (error: unknown) {
    if (error instanceof RangeError) return false;
    throw error;
  }
}

/**
 * Returns local wall time minus UTC at `instant`, in whole seconds as ms.
 * `format` is used instead of `formatToParts` because it is about four times
 * faster, and the en-US pattern "M/D/YYYY, HH:MM:SS" has six numbers in a
 * fixed order.
 */
export function offsetAt(timeZone: string, instant: number): number {
  const whole = Math.floor(instant / SECOND_MS) * SECOND_MS;
  const numbers = formatterFor(timeZone).format(whole).match(/\d+/g);
  if (numbers === null || numbers.length !== 6) {
    throw new Error(`unexpected Intl date format for time zone ${timeZone}`);
  }
  const [month, day, year, hour, minute, second] = numbers.map(Number) as [number, number, number, number, number, number];
  const wall = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * SECOND_MS;
  return wall - whole;
}

/** UTC offsets at the start and end of one UTC day, and the instant between them where the offset changes. */
interface DayOffsets {
  start: number;
  end: number;
  /** First instant with the `end` offset, or null when the day has no change. */
  transition: number | null;
}

/** Per zone, the offsets of UTC days already looked at, keyed by day number. */
const dayCache = new Map<string, Map<number, DayOffsets>>();
const MAX_CACHED_DAYS = 200_000;
let cachedDays = 0;

/** Finds the first whole second in (before, after] whose offset differs from the one at `before`. */
function findTransition(timeZone: string, before: number, after: number, offsetBefore: number, deadline: Deadline): number {
  let low = before;
  let high = after;
  while (high - low > SECOND_MS) {
    deadline.check();
    const middle = low + Math.floor((high - low) / 2 / SECOND_MS) * SECOND_MS;
    if (offsetAt(timeZone, middle) === offsetBefore) low = middle;
    else high = middle;
  }
  return high;
}

/**
 * Offsets of one UTC day, sampled at both ends. Days are cached because
 * every fire-time search of a zone looks at the same few days again.
 *
 * NOTE: a change and its reversal within one UTC day are not seen, and of
 * two changes in one day only one is. tests/scheduler/dst-zones.test.ts
 * checks every zone's transitions for 2018-2027 only.
 */
function dayOffsets(timeZone: string, day: number, deadline: Deadline): DayOffsets {
  let zoneDays = dayCache.get(timeZone);
  const cached = zoneDays?.get(day);
  if (cached) return cached;

  const start = zoneDays?.get(day - 1)?.end ?? offsetAt(timeZone, day * DAY_MS);
  const end = offsetAt(timeZone, (day + 1) * DAY_MS);
  const transition = start === end ? null : findTransition(timeZone, day * DAY_MS, (day + 1) * DAY_MS, start, deadline);
  if (cachedDays >= MAX_CACHED_DAYS) {
    dayCache.clear();
    cachedDays = 0;
  }
  if (!zoneDays) {
    zoneDays = new Map();
    dayCache.set(timeZone, zoneDays);
  }
  const offsets = { start, end, transition };
  zoneDays.set(day, offsets);
  cachedDays += 1;
  return offsets;
}

/** Local wall time minus UTC at `instant`, in ms, from the cached day offsets. */
export function offsetAtCached(timeZone: string, instant: number, deadline: Deadline): number {
  const day = dayOffsets(timeZone, Math.floor(instant / DAY_MS), deadline);
  return day.transition === null || instant < day.transition ? day.start : day.end;
}

/** Local wall time at `instant`, as ms of the local calendar (see calendar.ts). */
export function wallAt(timeZone: string, instant: number, deadline: Deadline): number {
  return Math.floor(instant / SECOND_MS) * SECOND_MS + offsetAtCached(timeZone, instant, deadline);
}

/** Splits [from, to) into spans of constant offset. `from` and `to` must be whole seconds. */
export function offsetSpans(timeZone: string, from: number, to: number, deadline: Deadline): OffsetSpan[] {
  const spans: OffsetSpan[] = [];
  let spanStart = from;
  let offset = offsetAtCached(timeZone, from, deadline);
  for (let day = Math.floor(from / DAY_MS); day * DAY_MS < to; day += 1) {
    deadline.check();
    const { transition, end } = dayOffsets(timeZone, day, deadline);
    if (transition !== null && transition > from && transition < to) {
      spans.push({ start: spanStart, end: transition, offset });
      spanStart = transition;
      offset = end;
    }
  }
  if (spanStart < to) spans.push({ start: spanStart, end: to, offset });
  return spans;
}
