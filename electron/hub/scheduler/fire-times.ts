/**
 * Fire instants of a compiled schedule, with the daylight saving rules.
 *
 * The search walks real time in windows, each split into spans of constant
 * UTC offset. Inside a span, local wall time runs without jumps, so the
 * matching wall times map one to one onto instants. Between spans the wall
 * clock jumps forward (skipped local times) or back (repeated ones).
 *
 * - fixed schedules fire once per matching local time. A skipped time fires
 *   at the first instant after the gap, and several skipped times fire once
 *   there. A repeated time fires only on its first pass.
 * - interval schedules fire whenever the wall clock shows a matching time: a
 *   skipped time does not fire, a repeated time fires on both passes, so the
 *   fires stay evenly spaced in real time.
 */
import { DAY_MS, SECOND_MS } from './calendar.js';
import type { CompiledSchedule } from './cron-spec.js';
import { Deadline } from './errors.js';
import { offsetAtCached, offsetSpans, wallAt, type OffsetSpan } from './zone.js';

/**
 * How far back in wall time a match may lie and still map to a later
 * instant. Covers any wall-clock step back of up to 26 hours, more than any
 * DST or zone change in tzdata.
 */
const LOOKBACK_MS = 26 * 3600 * 1000;
/** Real time scanned before the part of a window that yields, to learn the wall clock's recent maximum. */
const LEAD_MS = DAY_MS;
/** Real time a window yields from; small enough that splitting it into spans stays cheap. */
const WINDOW_MS = 4 * DAY_MS;
/** Upper bound on windows per search; the calendar search jumps over empty stretches, so a few suffice. */
const MAX_WINDOWS = 100_000;

function ceilToSecond(ms: number): number {
  return Math.ceil(ms / SECOND_MS) * SECOND_MS;
}

/**
 * Yields the fire instants of one window, in increasing order: those in
 * [from, to), found by scanning spans from `leadFrom`.
 */
function* windowInstants(schedule: CompiledSchedule, leadFrom: number, from: number, to: number, deadline: Deadline): Generator<number> {
  const spans = offsetSpans(schedule.timezone, leadFrom, to, deadline);
  const first = spans[0] as OffsetSpan;
  // Highest wall time seen so far; a later span that starts below it repeats local times.
  let maxWall = first.start + first.offset;

  for (const span of spans) {
    const startWall = span.start + span.offset;
    const endWall = span.end + span.offset;
    let fromWall = Math.max(span.start, from) + span.offset;
    if (schedule.mode === 'fixed') {
      // Local times in [maxWall, startWall) were skipped by a jump forward: a match among them fires once, at the jump.
      const skippedMatch = startWall > maxWall && span.start >= from && schedule.matcher.nextWall(maxWall, startWall, deadline) !== null;
      if (skippedMatch) yield span.start;
      // Local times below maxWall already occurred on an earlier pass.
      fromWall = Math.max(fromWall, maxWall);
    }
    let wall = schedule.matcher.nextWall(fromWall, endWall, deadline);
    while (wall !== null) {
      yield wall - span.offset;
      wall = schedule.matcher.nextWall(wall + SECOND_MS, endWall, deadline);
    }
    maxWall = Math.max(maxWall, endWall);
  }
}

/**
 * Yields every fire instant at or after `from`, in strictly increasing
 * order. Ends when no local date matches within a whole Gregorian cycle, or
 * after MAX_WINDOWS windows. Throws ScheduleError 'compute_timeout' when the
 * deadline passes.
 */
export function* fireInstants(schedule: CompiledSchedule, from: number, deadline: Deadline = new Deadline()): Generator<number> {
  let cursor = ceilToSecond(from);
  let last = -Infinity;
  for (let windows = 0; windows < MAX_WINDOWS; windows += 1) {
    deadline.check();
    // Jump to the next local date that matches at all, so a yearly schedule does not scan every day in between.
    const match = schedule.matcher.nextWall(wallAt(schedule.timezone, cursor, deadline) - LOOKBACK_MS, Infinity, deadline);
    if (match === null) return;
    const roughInstant = match - offsetAtCached(schedule.timezone, cursor, deadline);
    const windowStart = Math.max(cursor, ceilToSecond(roughInstant - 2 * DAY_MS));
    const windowEnd = windowStart + WINDOW_MS;
    for (const instant of windowInstants(schedule, windowStart - LEAD_MS, windowStart, windowEnd, deadline)) {
      // Strictly increasing: a gap fire and a match at the first instant after the gap coincide.
      if (instant <= last) continue;
      last = instant;
      yield instant;
    }
    cursor = windowEnd;
  }
}

/** Returns the first fire instant strictly after `after`, or null when there is none. */
export function nextFireAfter(schedule: CompiledSchedule, after: number, deadline: Deadline = new Deadline()): number | null {
  for (const instant of fireInstants(schedule, Math.floor(after / SECOND_MS) * SECOND_MS + SECOND_MS, deadline)) {
    return instant;
  }
  return null;
}

/** Returns up to `count` fire instants strictly after `after`. */
export function fireInstantsAfter(schedule: CompiledSchedule, after: number, count: number, deadline: Deadline = new Deadline()): number[] {
  const result: number[] = [];
  if (count <= 0) return result;
  for (const instant of fireInstants(schedule, Math.floor(after / SECOND_MS) * SECOND_MS + SECOND_MS, deadline)) {
    result.push(instant);
    if (result.length >= count) break;
  }
  return result;
}
