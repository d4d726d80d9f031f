import { describe, expect, it } from 'vitest';
import { describeCron } from './cron.js';

function words(cron: string): string {
  const description = describeCron(cron);
  if (!description.ok) throw new Error(description.error);
  return description.text;
}

describe('cron in words', () => {
  it.each([
    ['*/45 * * * *', 'At 0 and 45 minutes past the hour'],
    ['*/90 * * * *', 'Every hour'],
    ['0 */5 * * *', 'At 00:00, 05:00, 10:00, 15:00 and 20:00'],
    ['0 0 * * */4', 'At 00:00, only on Sunday and Thursday'],
  ])('names the fires of uneven step %s', (cron, text) => {
    expect(words(cron)).toBe(text);
  });

  it.each([
    ['*/15 * * * *', 'Every 15 minutes'],
    ['*/20 * * * * *', 'Every 20 seconds'],
    ['0 0 */2 * *', 'At 00:00, every 2 days in a month'],
  ])('keeps the step of even %s', (cron, text) => {
    expect(words(cron)).toBe(text);
  });

  it('reports an invalid field', () => {
    expect(describeCron('61 * * * *')).toEqual({ ok: false, error: 'Error: minutes part must be >= 0 and <= 59' });
  });
});
