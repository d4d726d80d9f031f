/**
 * The agent's pino logger. It writes JSON lines to stderr, or one short
 * human-readable line per entry when stderr is a terminal. Tokens and
 * environment values are redacted wherever they appear in the fields.
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './options.js';

export type { Logger };

const REDACTED_PATHS = ['token', '*.token', 'auth.token', 'env', '*.env', 'secretEnv', '*.secretEnv', 'config', '*.config'];

export function createLogger(level: LogLevel, stream: NodeJS.WritableStream = process.stderr): Logger {
  const isTerminal = 'isTTY' in stream && stream.isTTY === true;
  let destination: DestinationStream;
  if (isTerminal) destination = humanStream(stream);
  else if (stream === process.stderr) destination = pino.destination({ dest: 2, sync: true });
  else destination = { write: (line: string) => stream.write(line) };
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

/** Creates a logger that writes nothing, for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

const OMITTED_FIELDS = new Set(['level', 'time', 'msg', 'pid']);

/** Turns each JSON entry into `12:00:01 WARN message key=value ...`. */
function humanStream(out: NodeJS.WritableStream): DestinationStream {
  return {
    write(line: string): void {
      let entry: Record<string, unknown>;
      try {
        entry = JSON.parse(line) as Record<string, unknown>;
      } catch {
        out.write(line);
        return;
      }
      const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
      const level = String(entry.level ?? '').toUpperCase().padEnd(5);
      let stack = '';
      const fields: string[] = [];
      for (const [key, value] of Object.entries(entry)) {
        if (OMITTED_FIELDS.has(key)) continue;
        if (isSerializedError(value)) {
          fields.push(`${key}=${JSON.stringify(value.message)}`);
          stack += `\n${value.stack}`;
        } else {
          fields.push(`${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`);
        }
      }
      const message = String(entry.msg ?? '');
      out.write(`${time} ${level} ${message}${fields.length > 0 ? ' ' + fields.join(' ') : ''}${stack}\n`);
    },
  };
}

function isSerializedError(value: unknown): value is { message: string; stack: string } {
  return typeof value === 'object' && value !== null && 'stack' in value && typeof value.stack === 'string' && 'message' in value;
}
