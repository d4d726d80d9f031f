/**
 * Sizes of run events as JSON, computed without serializing them. A log
 * flood passes every line through here, and JSON.stringify of each line
 * only to measure it cost more than the rest of the agent's work per line.
 */
import type { Json, LogLine, RunEvent } from './protocol/index.js';

/** Characters that JSON.stringify escapes, and surrogates, whose UTF-8 size depends on their pairing. */
const NEEDS_SERIALIZER = /["\\\u0000-\u001f\ud800-\udfff]/;

/** Returns the UTF-8 size of `JSON.stringify(text)`, quotes included. */
export function jsonStringBytes(text: string): number {
  if (!NEEDS_SERIALIZER.test(text)) return Buffer.byteLength(text) + 2;
  return Buffer.byteLength(JSON.stringify(text));
}

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
