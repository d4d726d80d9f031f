/**
 * The line protocol of shell tasks. A stdout line of one of these forms is
 * consumed instead of being logged:
 *
 *   ::progress PERCENT [MESSAGE]   PERCENT from 0 to 100, decimals allowed
 *   ::record JSON                  one result record (a datapoint)
 *   ::result JSON                  the run's result; the last one wins
 *
 * Any other line, including other `::` words, is an ordinary log line.
 */
import { LIMITS, exceedsDepth, type Json } from '../protocol/index.js';

export type ProtocolLine =
  | { kind: 'progress'; percent: number; message: string | null }
  | { kind: 'record'; value: Json }
  | { kind: 'result'; value: Json }
  /** A protocol line that could not be used; `reason` is written to the run log. */
  | { kind: 'invalid'; reason: string };

const COMMAND = /^::(progress|record|result)(?:\s+(.*))?$/s;
const MAX_PROGRESS_MESSAGE = 1000;

/**
 * Returns null when the line is not a protocol line. `fullBytes` is the
 * line's length before the line splitter cut it, so a cut record is reported
 * as too long rather than as invalid JSON.
 */
export function parseProtocolLine(
  line: string,
  fullBytes: number = Buffer.byteLength(line),
  maxRecordBytes: number = LIMITS.maxRecordBytes,
): ProtocolLine | null {
  const match = COMMAND.exec(line);
  if (match === null) return null;
  const command = match[1];
  const argument = (match[2] ?? '').trim();
  if (command === 'progress') return parseProgress(argument);
  const argumentBytes = Buffer.byteLength(argument) + Math.max(0, fullBytes - Buffer.byteLength(line));
  return parseJsonArgument(command === 'record' ? 'record' : 'result', argument, argumentBytes, maxRecordBytes);
}

function parseProgress(argument: string): ProtocolLine {
  const first = argument.split(/\s+/)[0] ?? '';
  const percent = Number(first);
  if (first === '' || !Number.isFinite(percent) || percent < 0 || percent > 100) {
    return { kind: 'invalid', reason: `ignored ::progress line: the percentage must be a number from 0 to 100, got "${first.slice(0, 40)}"` };
  }
  const message = argument.slice(first.length).trim().slice(0, MAX_PROGRESS_MESSAGE);
  return { kind: 'progress', percent, message: message === '' ? null : message };
}

function parseJsonArgument(kind: 'record' | 'result', argument: string, bytes: number, maxRecordBytes: number): ProtocolLine {
  if (bytes > maxRecordBytes) {
    return { kind: 'invalid', reason: `ignored ::${kind} line: its JSON is ${bytes} bytes, over the limit of ${maxRecordBytes}` };
  }
  if (argument === '') return { kind: 'invalid', reason: `ignored ::${kind} line: JSON expected after ::${kind}` };
  try {
    const value = JSON.parse(argument) as Json;
    if (exceedsDepth(value)) {
      return { kind: 'invalid', reason: `ignored ::${kind} line: its JSON is nested deeper than ${LIMITS.maxJsonDepth} levels` };
    }
    return { kind, value };
  } catch (error: unknown) {
    const detail = error instanceof Error ? error.message : String(error);
    return { kind: 'invalid', reason: `ignored ::${kind} line: invalid JSON (${detail.slice(0, 200)})` };
  }
}
