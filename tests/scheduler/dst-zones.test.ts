/**
 * Daily schedules around every UTC-offset transition of 2018-2027 in every
 * IANA zone that Intl supports. Offsets here are read with Intl's "longOffset"
 * names, a different path from the scheduler's own, so the two check each
 * other.
 */
import { describe, expect, it } from 'vitest';
import { nextFireTimes } from '../../electron/hub/scheduler/index.js';
import { DAY, HOUR } from './helpers.js';

const SECOND = 1000;
const WEEK = 7 * DAY;
const START = Date.UTC(2018, 0, 1);
const END = Date.UTC(2028, 0, 1);

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Local time minus UTC in ms, from names such as "GMT+05:45". */
function offsetOf(timeZone: string, instant: number): number {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    formatters.set(timeZone, formatter);
  }
  const match = /GMT([+-])(\d\d):(\d\d)/.exec(formatter.format(instant));
  if (!match) return 0;
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -minutes : minutes) * 60_000;
}

/** Transition instants: the first second of each new offset. */
function transitions(timeZone: string): number[] {
  const found: number[] = [];
  let previous = offsetOf(timeZone, START);
  for (let probe = START; probe < END; probe += WEEK) {
    const next = Math.min(probe + WEEK, END);
    if (offsetOf(timeZone, next) === previous) continue;
    let low = probe;
    let high = next;
    while (high - low > SECOND) {
      const middle = low + Math.floor((high - low) / 2 / SECOND) * SECOND;
      if (offsetOf(timeZone, middle) === previous) low = middle;
      else high = middle;
    }
    found.push(high);
    previous = offsetOf(timeZone, high);
    probe = high - WEEK;
  }
  return found;
}

function secondOfDay(wall: number): number {
  return (((wall % DAY) + DAY) % DAY) / SECOND;
}

/** Why a fire of a daily fixed-time schedule breaks the DST rules, or null when it follows them. */
function ruleBreak(timeZone: string, fire: number, target: number): string | null {
  const offset = offsetOf(timeZone, fire);
  const before = offsetOf(timeZone, fire - SECOND);
  if (secondOfDay(fire + offset) === target) {
    // A repeated wall time must fire on its first pass only.
    const earlier = offsetOf(timeZone, fire - 3 * HOUR);
    const firstPass = fire - (earlier - offset);
    if (earlier > offset && offsetOf(timeZone, firstPass) === earlier) return 'fired on the second pass of a repeated time';
    return null;
  }
  if (before >= offset) return 'fired at a wall time that does not match';
  // The fire is the first instant after a gap: the skipped wall times must contain the target.
  const skippedFrom = secondOfDay(fire + before);
  const skippedLength = (offset - before) / SECOND;
  const distance = (((target - skippedFrom) % 86_400) + 86_400) % 86_400;
  return distance < skippedLength ? null : 'fired after a gap that did not skip the target time';
}

const SCHEDULES = [
  { cron: '0 0 * * *', target: 0 },
  { cron: '45 21 * * *', target: 21 * 3600 + 45 * 60 },
];

describe('daily schedules in every zone', () => {
  it('follow the DST rules around every 2018-2027 transition', () => {
    const zones = Intl.supportedValuesOf('timeZone');
    const problems: string[] = [];
    let checked = 0;

    for (const timeZone of zones) {
      for (const transition of transitions(timeZone)) {
        for (const from of [transition - 25 * HOUR, transition - HOUR, transition - SECOND, transition, transition + HOUR]) {
          for (const { cron, target } of SCHEDULES) {
            checked += 1;
            const where = `${timeZone} ${cron} from ${new Date(from).toISOString()}`;
            const series = nextFireTimes({ cron, timezone: timeZone }, 5, new Date(from - 30 * HOUR)).map((date) => date.getTime());
            const first = nextFireTimes({ cron, timezone: timeZone }, 1, new Date(from))[0]?.getTime();
            if (first === undefined || first <= from) problems.push(`${where}: next fire does not move forward`);
            if (first !== series.find((fire) => fire > from)) problems.push(`${where}: next fire disagrees with the series`);
            series.forEach((fire, index) => {
              const gap = index === 0 ? 24 * HOUR : fire - (series[index - 1] as number);
              if (gap < 21 * HOUR || gap > 27 * HOUR) problems.push(`${where}: ${gap / HOUR} h between daily fires`);
              const problem = ruleBreak(timeZone, fire, target);
              if (problem) problems.push(`${where}: ${new Date(fire).toISOString()} ${problem}`);
            });
          }
        }
      }
    }

    expect(problems.slice(0, 20)).toEqual([]);
    expect(checked).toBeGreaterThan(10_000);
  });
});
