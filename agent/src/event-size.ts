/**
 * Sizes of run events as JSON, computed without serializing them. A log
 * flood passes every line through here, and JSON.stringify of each line
 * only to measure it cost more than the rest of the agent's work per line.
 */
import { jsonStringBytes, type Json, type LogLine } from './protocol/index.js';

/** Returns the UTF-8 size of `JSON.stringify(line)`, which is the same whatever the order of its three fields. */
export function logLineBytes(line: LogLine): number {
  // {"t":…,"s":…,"m":…} has 16 bytes of punctuation and keys around the values.
  return 16 + String(line.t).length + jsonStringBytes(line.s) + jsonStringBytes(line.m);
}

export function jsonBytes(value: Json): number {
  return Buffer.byteLength(JSON.stringify(value));
}

