import type { Logger } from './logger.js';

/**
 * Logs a repeated warning at most once per window and key, with the number
 * of repeats left out since the last entry, so a peer that keeps sending
 * malformed messages cannot flood the log.
 */
export class RateLimitedLog {
  private readonly lastLogged = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    const entry = this.lastLogged.get(key);
    if (entry !== undefined && now - entry.at < this.windowMs) {
      entry.suppressed += 1;
      return;
    }
    this.log.warn({ ...fields, suppressed: entry?.suppressed ?? 0 }, message);
    this.lastLogged.set(key, { at: now, suppressed: 0 });
  }
}
