/**
 * Sizes of run events as JSON, computed without serializing them. A log
 * flood passes every line through here, and JSON.stringify of each line
 * only to measure it cost more than the rest of the agent's work per line.
 */
import { jsonStringBytes, type Json, type LogLine, type RunEvent } from './protocol/index.js';

/** Returns the UTF-8 size of `JSON.stringify(line)`, which is the same whatever the order of its three fields. */
export function logLineBytes(line: LogLine): number {
  // {"t":…,"s":…,"m":…} has 16 bytes of punctuation and keys around the values.
  return 16 + String(line.t).length + jsonStringBytes(line.s) + jsonStringBytes(line.m);
}

export function jsonBytes(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value));
}

/**
 * Returns the UTF-8 size of a log or records event serialized with its items,
 * given the summed sizes of the items (`itemBytes`, without separators).
 */
export function itemEventBytes(event: RunEvent & { type: 'log' | 'records' }, itemCount: number, itemBytes: number): number {
  const empty = event.type === 'log' ? { ...event, lines: [] } : { ...event, records: [] };
  return Buffer.byteLength(JSON.stringify(empty)) + itemBytes + Math.max(0, itemCount - 1);
}
