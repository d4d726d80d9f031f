import pino, { type Logger } from 'pino';

export type { Logger };

/** Paths redacted wherever they appear in a log object. */
const REDACT = ['token', 'adminToken', 'agentToken', '*.token', 'auth.token', 'env', '*.env', 'headers.authorization'];

/**
 * Creates the hub's logger: JSON lines, or pino-pretty on a terminal. Level
 * from LOG_LEVEL unless given.
 */
export function createLogger(options: { level?: string; pretty?: boolean } = {}): Logger {
  let level = options.level ?? process.env.LOG_LEVEL ?? 'info';
  if (!(level in pino.levels.values) && level !== 'silent') {
    process.stderr.write(`LOG_LEVEL "${level}" is not a log level (${Object.keys(pino.levels.values).join(', ')}); using info.\n`);
    level = 'info';
  }
  const pretty = options.pretty ?? process.stderr.isTTY;
  const transport = pretty
    ? { target: 'pino-pretty', options: { destination: 2, ignore: 'pid,hostname', translateTime: 'SYS:HH:MM:ss.l' } }
    : undefined;
  return pino({ level, redact: { paths: REDACT, censor: '[redacted]' }, transport }, transport ? undefined : pino.destination(2));
}

/**
 * Logs a repeated warning at most once per window, with the number of
 * occurrences folded in, so a misbehaving peer cannot flood the log.
 */
export class RateLimitedLog {
  private readonly seen = new Map<string, { count: number; since: number }>();

  constructor(
    private readonly log: Logger,
    private readonly windowMs = 10_000,
  ) {}

  warn(key: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const entry = this.seen.get(key);
    if (entry && now - entry.since < this.windowMs) {
      entry.count += 1;
      return;
    }
    const suppressed = entry ? entry.count : 0;
    this.seen.set(key, { count: 0, since: now });
    if (this.seen.size > 10_000) this.seen.clear();
    this.log.warn({ ...fields, suppressed }, message);
  }
}
