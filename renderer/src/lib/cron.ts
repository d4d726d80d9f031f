/**
 * Cron expressions in words (cronstrue) and the presets the job editor offers.
 */
import cronstrue from 'cronstrue';

export type CronDescription = { ok: true; text: string } | { ok: false; error: string };

export function describeCron(cron: string): CronDescription {
  try {
    return { ok: true, text: cronstrue.toString(cron, { use24HourTimeFormat: true, throwExceptionOnParseError: true, verbose: false }) };
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
