/**
 * Parses and validates a cron expression in a time zone.
 *
 * Each field is first checked here, so a rejection names the field and the
 * rule it breaks. cron-parser then expands the field into its values, one
 * field at a time, because given a single month it silently drops days that
 * month lacks, which would hide an impossible date such as `0 0 30 2 *`.
 * Whether the date fields can ever match is then decided over a full
 * Gregorian cycle, so a schedule that is accepted always has a fire time.
 */
import cronParser from 'cron-parser';
import { CalendarMatcher, daysInMonth, type CronFields } from './calendar.js';
import { Deadline } from './errors.js';
import { isKnownTimeZone } from './zone.js';

/**
 * The behaviour of a schedule when clocks change:
 * - fixed: minute and hour name specific values (`30 2 * * *`). The schedule
 *   follows the calendar: it fires once per matching local time.
 * - interval: the minute or hour field begins with `*` (`0 * * * *`, or
 *   every 5 minutes). The schedule follows elapsed time: a repeated hour
 *   fires again, a skipped one does not.
 */
export type CronMode = 'fixed' | 'interval';

export interface CompiledSchedule {
  cron: string;
  timezone: string;
  mode: CronMode;
  matcher: CalendarMatcher;
}

/** A failure names the part of the schedule at fault, so an editor can show it at that field. */
export type CompileResult = { ok: true; schedule: CompiledSchedule } | { ok: false; reason: string; field: 'cron' | 'timezone' };

type FieldKey = 'second' | 'minute' | 'hour' | 'dayOfMonth' | 'month' | 'dayOfWeek';

interface FieldSpec {
  key: FieldKey;
  label: string;
  min: number;
  max: number;
  range: string;
  names?: Record<string, number>;
}

const MONTH_NAMES = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const WEEKDAY_NAMES = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const MONTH_FULL_NAMES = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

const FIELDS: readonly FieldSpec[] = [
  { key: 'second', label: 'second', min: 0, max: 59, range: 'seconds go from 0 to 59' },
  { key: 'minute', label: 'minute', min: 0, max: 59, range: 'minutes go from 0 to 59' },
  { key: 'hour', label: 'hour', min: 0, max: 23, range: 'hours go from 0 to 23' },
  { key: 'dayOfMonth', label: 'day-of-month', min: 1, max: 31, range: 'days of the month go from 1 to 31' },
  {
    key: 'month',
    label: 'month',
    min: 1,
    max: 12,
    range: 'months go from 1 to 12 (or jan to dec)',
    names: Object.fromEntries(MONTH_NAMES.map((name, index) => [name, index + 1])),
  },
  {
    key: 'dayOfWeek',
    label: 'day-of-week',
    min: 0,
    max: 7,
    range: 'days of the week go from 0 to 7, where 0 and 7 are both Sunday (or sun to sat)',
    names: Object.fromEntries(WEEKDAY_NAMES.map((name, index) => [name, index])),
  },
];

const PRESETS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

const FIELD_COUNT_HELP = 'expected 5 fields (minute hour day-of-month month day-of-week), or 6 with a leading second field';

/** Parses one field value: a number or, for month and day of week, a three-letter name. */
function parseValue(spec: FieldSpec, token: string): number | string {
  if (/^\d+$/.test(token)) {
    const value = Number(token);
    return value >= spec.min && value <= spec.max ? value : `${token} is out of range: ${spec.range}`;
  }
  const named = spec.names?.[token.toLowerCase()];
  if (named !== undefined) return named;
  if (spec.names && /^[a-z]+$/i.test(token)) return `"${token}" is not a known name: ${spec.range}`;
  return `"${token}" is not a number`;
}

/** Checks `L`, `5L` and `1#2`, the day forms that are not numbers, ranges or steps. Returns a reason, null when valid, or undefined when the item is not one of these forms. */
function checkDayForm(spec: FieldSpec, item: string): string | null | undefined {
  if (spec.key === 'dayOfMonth' && item === 'L') return null;
  if (spec.key !== 'dayOfWeek') return undefined;
  if (item === 'L') return '"L" needs a weekday before it, such as 5L for the last Friday of the month';
  const last = /^(\w+)L$/.exec(item);
  if (last?.[1] !== undefined) {
    const weekday = parseValue(spec, last[1]);
    return typeof weekday === 'string' ? weekday : null;
  }
  const nth = /^(\w+)#(\w+)$/.exec(item);
  if (nth?.[1] === undefined || nth[2] === undefined) return undefined;
  const weekday = parseValue(spec, nth[1]);
  if (typeof weekday === 'string') return weekday;
  return /^[1-5]$/.test(nth[2]) ? null : `the occurrence after "#" must be 1 to 5, as in 1#2 for the second Monday`;
}

/** Checks one item of a comma-separated list and returns why it is invalid, or null. */
function checkItem(spec: FieldSpec, item: string): string | null {
  const dayForm = checkDayForm(spec, item);
  if (dayForm !== undefined) return dayForm;

  const [base = '', step, ...extraSlashes] = item.split('/');
  if (extraSlashes.length > 0) return `"${item}" has more than one "/"`;
  if (step !== undefined && !(/^\d+$/.test(step) && Number(step) >= 1)) {
    return `the step "${step}" after "/" must be a whole number of at least 1`;
  }
  if (base === '*') return null;

  const [first = '', last, ...extraDashes] = base.split('-');
  if (extraDashes.length > 0 || first === '' || last === '') return `"${base}" is not a valid range; write it as start-end, such as 1-5`;
  const start = parseValue(spec, first);
  if (typeof start === 'string') return start;
  if (last === undefined) return null;
  const end = parseValue(spec, last);
  if (typeof end === 'string') return end;
  return start <= end ? null : `the range ${base} runs backwards; write the smaller value first, or list both parts, such as 22-23,0-2`;
}

/** Checks one field and returns a reason that names it, or null when it is valid. */
function checkField(spec: FieldSpec, raw: string): string | null {
  const where = `${spec.label} field "${raw}"`;
  if (raw === '?') {
    return spec.key === 'dayOfMonth' || spec.key === 'dayOfWeek' ? null : `${where}: "?" is allowed only in the day-of-month and day-of-week fields`;
  }
  const items = raw.split(',');
  if (spec.key === 'dayOfWeek' && raw.includes('#') && items.length > 1) {
    return `${where}: a "#" day cannot be combined with other days in a list`;
  }
  for (const item of items) {
    if (item === '') return `${where}: the list has an empty item`;
    const reason = checkItem(spec, item);
    if (reason !== null) return `${where}: ${reason}`;
  }
  return null;
}

/** Expands one field into its values with cron-parser, the other fields set to `*`. */
function expandField(index: number, raw: string): readonly unknown[] {
  const probe = ['*', '*', '*', '*', '*', '*'];
  probe[index] = raw;
  const spec = FIELDS[index] as FieldSpec;
  return cronParser.parseExpression(probe.join(' ')).fields[spec.key] as readonly unknown[];
}

function numbersOf(values: readonly unknown[]): number[] {
  return values.filter((value): value is number => typeof value === 'number');
}

function toCronFields(raw: readonly string[]): CronFields {
  const [second, minute, hour, dayOfMonth, month, dayOfWeek] = raw.map((field, index) => expandField(index, field)) as [
    readonly unknown[], readonly unknown[], readonly unknown[], readonly unknown[], readonly unknown[], readonly unknown[],
  ];
  const dowRaw = raw[5] ?? '*';
  const nth = /^(\w+)#([1-5])$/.exec(dowRaw);
  const nthWeekday = nth?.[1] !== undefined ? parseValue(FIELDS[5] as FieldSpec, nth[1]) : null;
  const lastWeekdays = dayOfWeek.filter((value): value is string => typeof value === 'string' && /^\dL$/.test(value));
  return {
    seconds: numbersOf(second),
    minutes: numbersOf(minute),
    hours: numbersOf(hour),
    daysOfMonth: numbersOf(dayOfMonth),
    lastDayOfMonth: dayOfMonth.includes('L'),
    months: numbersOf(month),
    // With "#", cron-parser lists the weekday as a plain value too; the occurrence rule alone must decide.
    daysOfWeek: nth ? [] : [...new Set(numbersOf(dayOfWeek).map((value) => value % 7))],
    lastWeekdaysOfMonth: lastWeekdays.map((value) => Number(value[0]) % 7),
    nthWeekday: typeof nthWeekday === 'number' && nth?.[2] !== undefined ? { weekday: nthWeekday % 7, nth: Number(nth[2]) } : null,
    dayOfMonthStar: raw[3]?.startsWith('*') === true || raw[3] === '?',
    dayOfWeekStar: dowRaw.startsWith('*') || dowRaw === '?',
  };
}

function joinWords(words: readonly string[], conjunction: string): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

/** Explains why no date matches. Names the days and months when the day-of-month field alone rules every date out. */
function impossibleDateReason(fields: CronFields): string {
  const longest = (month: number): number => daysInMonth(2000, month);
  const dayNeverFits = fields.daysOfMonth.every((day) => fields.months.every((month) => day > longest(month)));
  if (!fields.lastDayOfMonth && fields.daysOfMonth.length > 0 && dayNeverFits) {
    const days = fields.daysOfMonth.map(String);
    const months = fields.months.map((month) => MONTH_FULL_NAMES[month - 1] ?? String(month));
    const subject = days.length === 1 ? `day ${days[0]} never occurs` : `days ${joinWords(days, 'and')} never occur`;
    return `${subject} in ${joinWords(months, 'or')}, so this schedule can never fire`;
  }
  return 'no date matches the day-of-month, month and day-of-week fields together, so this schedule can never fire';
}

/** Splits an expression into six raw fields (seconds first), or returns why it cannot. */
function splitFields(cron: string): string[] | string {
  const text = cron.trim();
  if (text === '') return `the cron expression is empty; ${FIELD_COUNT_HELP}`;
  if (text.startsWith('@')) {
    const name = text.split(/\s+/)[0] ?? text;
    const preset = PRESETS[text.toLowerCase()];
    if (preset !== undefined) return ['0', ...preset.split(' ')];
    if (name.toLowerCase() === '@reboot') return '"@reboot" is not supported: jobs run on a schedule, not when the hub starts';
    return `"${text}" is not a known shortcut; use ${Object.keys(PRESETS).join(', ')}, or cron fields`;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) return `the cron expression has ${parts.length} field${parts.length === 1 ? '' : 's'}; ${FIELD_COUNT_HELP}`;
  return parts.length === 5 ? ['0', ...parts] : parts;
}

/** Parses and validates a cron expression into its fields and mode, or returns why it is invalid. */
export function parseCron(cron: string, deadline = new Deadline()): { ok: true; fields: CronFields; mode: CronMode } | { ok: false; reason: string } {
  const raw = splitFields(cron);
  if (typeof raw === 'string') return { ok: false, reason: raw };
  for (const [index, spec] of FIELDS.entries()) {
    const reason = checkField(spec, raw[index] ?? '');
    if (reason !== null) return { ok: false, reason };
  }

  let fields: CronFields;
  try {
    fields = toCronFields(raw);
  } catch (error: unknown) {
    // The checks above accept only what cron-parser 4.9 parses; this path means the two disagree.
    const detail = error instanceof Error ? error.message : String(error);
    return { ok: false, reason: `the cron expression "${cron.trim()}" could not be parsed by cron-parser: ${detail}` };
  }
  if (!new CalendarMatcher(fields).canEverMatchDay(deadline)) return { ok: false, reason: impossibleDateReason(fields) };

  const mode: CronMode = raw[1]?.startsWith('*') || raw[2]?.startsWith('*') ? 'interval' : 'fixed';
  return { ok: true, fields, mode };
}

const cache = new Map<string, CompileResult>();
const MAX_CACHED = 1000;

/** Validates a schedule and prepares it for fire-time searches. Results are cached by expression and zone. */
export function compileSchedule(schedule: { cron: string; timezone: string }, deadline = new Deadline()): CompileResult {
  const key = `${schedule.timezone}\n${schedule.cron}`;
  const cached = cache.get(key);
  if (cached) return cached;

  const result = compileUncached(schedule, deadline);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(key, result);
  return result;
}

function compileUncached(schedule: { cron: string; timezone: string }, deadline: Deadline): CompileResult {
  const timezone = schedule.timezone.trim();
  if (timezone === '') return { ok: false, field: 'timezone', reason: 'the time zone is empty; use an IANA name such as "Europe/Brussels" or "UTC"' };
  if (!isKnownTimeZone(timezone)) {
    return { ok: false, field: 'timezone', reason: `time zone "${timezone}" is unknown; use an IANA name such as "Europe/Brussels", "America/New_York" or "UTC"` };
  }
  const parsed = parseCron(schedule.cron, deadline);
  if (!parsed.ok) return { ...parsed, field: 'cron' };
  return { ok: true, schedule: { cron: schedule.cron.trim(), timezone, mode: parsed.mode, matcher: new CalendarMatcher(parsed.fields) } };
}
