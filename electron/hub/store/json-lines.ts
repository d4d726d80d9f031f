/**
 * Streaming reader for JSON-lines files, split on byte 0x0A so a file larger
 * than memory allows and multi-byte characters at chunk edges both work.
 */
import { createReadStream } from 'node:fs';
import { errorCode } from './errors.js';

export interface RawLine {
  text: string;
  /** False for a last line with no newline after it: a write cut short. */
  terminated: boolean;
}

const NEWLINE = 0x0a;
const CHUNK_BYTES = 1024 * 1024;

/**
 * Yields the lines of `path`, up to `limit` bytes when given, skipping empty
 * lines. A missing file yields nothing.
 */
export async function* readRawLines(path: string, limit?: number): AsyncGenerator<RawLine> {
  if (limit === 0) return;
  // Large chunks: a hub reads every run segment at start, and fewer, larger reads finish sooner.
  const stream = createReadStream(path, { highWaterMark: CHUNK_BYTES, ...(limit === undefined ? {} : { end: limit - 1 }) });
  let rest: Buffer = Buffer.alloc(0);
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      let end = chunk.indexOf(NEWLINE);
      if (rest.length > 0) {
        // Only the line cut by the previous chunk's end is copied, not the whole chunk.
        if (end === -1) {
          rest = Buffer.concat([rest, chunk]);
          continue;
        }
        yield { text: Buffer.concat([rest, chunk.subarray(0, end)]).toString('utf8'), terminated: true };
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      while (end !== -1) {
        if (end > start) yield { text: chunk.toString('utf8', start, end), terminated: true };
        start = end + 1;
        end = chunk.indexOf(NEWLINE, start);
      }
      rest = chunk.subarray(start);
    }
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return;
    throw err;
  } finally {
    stream.destroy();
  }
  if (rest.length > 0) yield { text: rest.toString('utf8'), terminated: false };
}

export type ParsedLine = { ok: true; value: unknown } | { ok: false; terminated: boolean };

/** Parses one raw line; a line that is not JSON is reported, never thrown. */
export function parseLine(line: RawLine): ParsedLine {
  try {
    return { ok: true, value: JSON.parse(line.text) as unknown };
  } catch {
    return { ok: false, terminated: line.terminated };
  }
}
