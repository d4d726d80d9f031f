/**
 * Cron expressions in words (cronstrue) and the presets the job editor offers.
 */
import cronstrue from 'cronstrue';

export type CronDescription = { ok: true; text: string } | { ok: false; error: string };

/** Lowest and highest value of each field, seconds first; day of month is left out on purpose (see `spellOutUnevenSteps`). */
const FIELD_RANGES: ReadonlyArray<readonly [number, number] | null> = [
  [0, 59],
  [0, 59],
  [0, 23],
  null,
  [1, 12],
  [0, 6],
];

/**
 * Replaces a step that does not divide its field's range, such as the 45 of
 * `*\/45` in minutes, by the values it gives. cronstrue words such a step as
 * "every 45 minutes", but the step restarts at each hour, so the job fires at
 * :00 and :45 and the last gap is 15 minutes. Day of month keeps its step,
 * because month lengths differ and a list of up to 31 days reads worse.
 */
function spellOutUnevenSteps(cron: string): string {
  const fields = cron.trim().split(/\s+/);
  const ranges = fields.length === 6 ? FIELD_RANGES : FIELD_RANGES.slice(1);
  return fields
    .map((field, index) => {
      const range = ranges[index];
      if (!range) return field;
      const [low, high] = range;
      return field
        .split(',')
        .map((part) => {
          const match = /^(\*|\d+)\/(\d+)$/.exec(part);
          if (!match) return part;
          const start = match[1] === '*' ? low : Number(match[1]);
          const step = Number(match[2]);
          if (step === 0 || start < low || start > high || (high - low + 1) % step === 0) return part;
          const values: number[] = [];
          for (let value = start; value <= high; value += step) values.push(value);
          return values.join(',');
        })
        .join(',');
    })
    .join(' ');
}

export function describeCron(cron: string): CronDescription {
  try {
    const text = cronstrue.toString(spellOutUnevenSteps(cron), { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false });
    return { ok: true, text };
  } catch (error) {
    return { ok: false, error: typeof error === 'string' ? error : error instanceof Error ? error.message : 'not a cron expression' };
  }
}

export const CRON_PRESETS: ReadonlyArray<{ label: string; cron: string }> = [
  { label: 'Every minute', cron: '* * * * *' },
  { label: 'Every 5 minutes', cron: '*/5 * * * *' },
  { label: 'Every 15 minutes', cron: '*/15 * * * *' },
  { label: 'Hourly', cron: '0 * * * *' },
  { label: 'Daily at 02:00', cron: '0 2 * * *' },
  { label: 'Weekdays at 09:00', cron: '0 9 * * 1-5' },
  { label: 'Weekly, Monday 06:00', cron: '0 6 * * 1' },
  { label: 'Monthly, 1st at 00:00', cron: '0 0 1 * *' },
];
