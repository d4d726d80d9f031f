/**
 * The size a run's output takes in the hub's log file, which is what the
 * per-run output cap (LIMITS.maxRunLogBytes) counts. The agent applies the
 * same rule before sending and the hub again on receipt, so the cap bounds
 * the bytes on the hub's disk, not only the text of the lines.
 *
 * The hub stores the lines of one agent event as one JSON line,
 * `{"a":<attempt>,"q":<seq>,"lines":[<line>,<line>,...]}`, each line being
 * `{"t":<ms>,"s":"stdout","m":<message>}`. A 1-byte message therefore
 * costs 41 bytes, and a message of control characters up to 6 times its size.
 */

/** Characters that JSON.stringify escapes, and surrogates, whose UTF-8 size depends on their pairing. */
const NEEDS_SERIALIZER = /["\\\u0000-\u001f\ud800-\udfff]/;

/**
 * Bytes of one stored line besides its message as a JSON string: keys,
 * punctuation, a 13-digit time, a 6-letter stream and the separating comma.
 * Every time from 2001 to 2286 has 13 digits.
 */
export const LOG_LINE_OVERHEAD_BYTES = 38;

/**
 * Upper bound of the bytes of one stored event besides its lines: the
 * attempt, a sequence number of up to 12 digits, the keys, the brackets and
 * the line break, less the comma the last line does not have.
 */
export const LOG_EVENT_OVERHEAD_BYTES = 40;

/** Returns the UTF-8 size of `JSON.stringify(text)`, quotes included. */
export function jsonStringBytes(text: string): number {
  if (!NEEDS_SERIALIZER.test(text)) return Buffer.byteLength(text) + 2;
  return Buffer.byteLength(JSON.stringify(text));
}

/** `jsonStringBytes` of the three stream names, which every line carries. */
const STREAM_BYTES: Readonly<Record<string, number>> = { stdout: 8, stderr: 8, system: 8 };

/** Returns the bytes one log line takes in the hub's log file, with its separator. */
export function storedLineBytes(line: { t: number; s: string; m: string }): number {
  // {"t":…,"s":…,"m":…} has 16 bytes of keys and punctuation around the values, and a comma follows.
  const streamBytes = Object.hasOwn(STREAM_BYTES, line.s) ? (STREAM_BYTES[line.s] as number) : jsonStringBytes(line.s);
  return 17 + String(line.t).length + streamBytes + jsonStringBytes(line.m);
}

/** Returns the bytes one agent event's wrapper takes in the hub's log file, given its attempt and sequence number. */
export function storedEventBytes(attempt: number, seq: number): number {
  // {"a":…,"q":…,"lines":[…]} and a line break, less the comma after the last line, which storedLineBytes counts.
  return 22 + String(attempt).length + String(seq).length;
}
