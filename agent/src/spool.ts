/**
 * The outbox's journal in the data directory (`<data-dir>/outbox/`), so run
 * events the hub has not acknowledged survive a crash or a restart of the
 * agent, and so the outbox can keep most of them out of memory.
 *
 * Events are appended as JSON lines to numbered segment files, several
 * appends coalesced into one write followed by fdatasync. The outbox releases
 * an event once the hub acknowledges it, or once the hub no longer wants it.
 * A segment whose events are all released is deleted. At start, every event
 * still in a segment is read back and handed to the outbox, which resends it.
 */
import { constants } from 'node:fs';
import { access, mkdir, open, readdir, unlink, type FileHandle } from 'node:fs/promises';
import path from 'node:path';
import { createReadStream } from 'node:fs';
import type { Logger } from './logger.js';
import type { RunEventType } from './protocol/index.js';

/** Location of one event in the spool. */
export interface SpoolRef {
  segment: number;
  offset: number;
  /** Bytes of the JSON text, without the newline. */
  bytes: number;
}

/** An event found in the spool at start. */
export interface SpooledEvent {
  runId: string;
  attempt: number;
  seq: number;
  type: RunEventType;
  ref: SpoolRef;
}

export interface SpoolOptions {
  dir: string;
  log: Logger;
  /** A segment takes no more appends past this size. */
  maxSegmentBytes?: number;
  /** fdatasync after each write, so spooled events survive a power cut and not only a crash. */
  sync?: boolean;
}

interface Segment {
  number: number;
  path: string;
  /** Bytes written so far; the next append goes at this offset. */
  size: number;
  /** Events in it not released yet. */
  live: number;
  /** The open file, shared by appends and reads; opened on first use. */
  handle: Promise<FileHandle> | null;
  /** Set after a failed write, which may have left part of a line: no more appends go here. */
  broken: boolean;
}

interface PendingAppend {
  /** UTF-8 JSON of each event, without a newline. */
  events: Buffer[];
  resolve: (refs: SpoolRef[]) => void;
  reject: (error: unknown) => void;
}

const SEGMENT_NAME = /^(\d{10})\.jsonl$/;
const NEWLINE = Buffer.from('\n');
const DEFAULT_MAX_SEGMENT_BYTES = 8 * 1024 * 1024;
/** Bytes of events one write takes at most, plus one event. */
const WRITE_SLICE_BYTES = 4 * 1024 * 1024;

export class Spool {
  private readonly segments = new Map<number, Segment>();
  private active: Segment | null = null;
  private nextNumber = 1;
  private queue: PendingAppend[] = [];
  private writing: Promise<void> | null = null;
  private liveBytes = 0;
  private closed = false;
  private readonly removals = new Set<Promise<void>>();
  private readonly maxSegmentBytes: number;

  private constructor(private readonly options: SpoolOptions) {
    this.maxSegmentBytes = options.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
  }

  /**
   * Opens the spool directory, creating it when missing, and returns the
   * events an earlier agent process left in it, in the order written.
   * Throws when the directory cannot be created or read.
   */
  static async open(options: SpoolOptions): Promise<{ spool: Spool; recovered: SpooledEvent[] }> {
    const spool = new Spool(options);
    await mkdir(options.dir, { recursive: true, mode: 0o700 });
    await access(options.dir, constants.W_OK);
    const numbers = (await readdir(options.dir))
      .map((name) => SEGMENT_NAME.exec(name)?.[1])
      .filter((match): match is string => match !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const recovered: SpooledEvent[] = [];
    for (const number of numbers) recovered.push(...(await spool.loadSegment(number)));
    spool.nextNumber = (numbers.at(-1) ?? 0) + 1;
    return { spool, recovered };
  }

  get dir(): string {
    return this.options.dir;
  }

  /** Bytes of events written and not released yet. */
  get bytes(): number {
    return this.liveBytes;
  }

  /**
   * Appends events, each as its UTF-8 JSON, and resolves with where each one
   * is, once written (and synced). Rejects with the file system error when
   * the write fails, in which case none of these events may be counted on.
   */
  append(events: Buffer[]): Promise<SpoolRef[]> {
    if (this.closed) return Promise.reject(new Error('the outbox spool is closed'));
    return new Promise((resolve, reject) => {
      this.queue.push({ events, resolve, reject });
      this.writing ??= this.drain();
    });
  }

  /** Reads the JSON of one event back. */
  async read(ref: SpoolRef): Promise<Buffer> {
    const segment = this.segments.get(ref.segment);
    if (segment === undefined) throw new Error(`outbox spool segment ${ref.segment} is gone`);
    const handle = await handleOf(segment);
    const buffer = Buffer.alloc(ref.bytes);
    const { bytesRead } = await handle.read(buffer, 0, ref.bytes, ref.offset);
    if (bytesRead !== ref.bytes) throw new Error(`outbox spool segment ${ref.segment} is shorter than expected`);
    return buffer;
  }

  /** Marks an event as no longer needed; a segment left with none is deleted. */
  release(ref: SpoolRef): void {
    const segment = this.segments.get(ref.segment);
    if (segment === undefined) return;
    segment.live -= 1;
    this.liveBytes -= ref.bytes + 1;
    if (segment.live > 0) return;
    // The active segment may be taking a write; drain() retires it before its next one instead.
    if (segment === this.active && this.writing !== null) return;
    if (segment === this.active) this.active = null;
    this.remove(segment);
  }

  /** Waits for the writes already requested. */
  async settle(): Promise<void> {
    while (this.writing !== null) await this.writing;
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.settle();
    await Promise.all([...this.removals]);
    for (const segment of this.segments.values()) await closeHandle(segment);
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const { batch, chunks } = this.takeSlice();
        try {
          const refs = await this.write(chunks);
          let index = 0;
          for (const pending of batch) {
            pending.resolve(refs.slice(index, index + pending.events.length));
            index += pending.events.length;
          }
        } catch (error: unknown) {
          for (const pending of batch) pending.reject(error);
        }
      }
    } finally {
      this.writing = null;
      // A release during the write may have left the active segment with nothing in it.
      if (this.active !== null && this.active.live === 0 && this.active.size > 0) this.retire(this.active);
    }
  }

  /**
   * Takes queued appends from the front until they pass WRITE_SLICE_BYTES. A
   * backlog is written in slices, so the buffers of one write stay small
   * while a flood outpaces fdatasync.
   */
  private takeSlice(): { batch: PendingAppend[]; chunks: Buffer[] } {
    const chunks: Buffer[] = [];
    let bytes = 0;
    let count = 0;
    for (const pending of this.queue) {
      if (count > 0 && bytes >= WRITE_SLICE_BYTES) break;
      for (const event of pending.events) {
        chunks.push(event);
        bytes += event.length + 1;
      }
      count += 1;
    }
    return { batch: this.queue.splice(0, count), chunks };
  }

  /** Writes events, one line each, and returns where each one is. */
  private async write(chunks: Buffer[]): Promise<SpoolRef[]> {
    const segment = await this.writableSegment();
    const refs: SpoolRef[] = [];
    const lines: Buffer[] = [];
    let offset = segment.size;
    for (const chunk of chunks) {
      refs.push({ segment: segment.number, offset, bytes: chunk.length });
      lines.push(chunk, NEWLINE);
      offset += chunk.length + 1;
    }
    const data = Buffer.concat(lines);
    try {
      const handle = await handleOf(segment);
      await writeAll(handle, data, segment.size);
      if (this.options.sync ?? true) await handle.datasync();
    } catch (error: unknown) {
      segment.broken = true;
      this.retire(segment);
      throw error;
    }
    segment.size = offset;
    segment.live += refs.length;
    this.liveBytes += data.length;
    return refs;
  }

  /** Returns the segment the next write goes to, starting a new one when needed. */
  private async writableSegment(): Promise<Segment> {
    const current = this.active;
    if (current !== null && !current.broken && current.size < this.maxSegmentBytes) {
      if (current.live > 0 || current.size === 0) return current;
    }
    if (current !== null) this.retire(current);
    const number = this.nextNumber++;
    const segment: Segment = {
      number,
      path: path.join(this.options.dir, `${String(number).padStart(10, '0')}.jsonl`),
      size: 0,
      live: 0,
      handle: null,
      broken: false,
    };
    await handleOf(segment);
    this.segments.set(number, segment);
    this.active = segment;
    return segment;
  }

  /** Stops appending to a segment, and deletes it when nothing in it is needed. */
  private retire(segment: Segment): void {
    if (this.active === segment) this.active = null;
    if (segment.live === 0) this.remove(segment);
  }

  private remove(segment: Segment): void {
    this.segments.delete(segment.number);
    const removal = (async () => {
      await closeHandle(segment);
      await unlink(segment.path);
    })()
      .catch((error: unknown) => {
        this.options.log.warn({ err: error, file: segment.path }, 'could not delete a spent outbox spool segment');
      })
      .finally(() => this.removals.delete(removal));
    this.removals.add(removal);
  }

  /** Reads the events of one segment; a last line cut short by a crash is skipped, and so is anything unreadable. */
  private async loadSegment(number: number): Promise<SpooledEvent[]> {
    const file = path.join(this.options.dir, `${String(number).padStart(10, '0')}.jsonl`);
    const segment: Segment = { number, path: file, size: 0, live: 0, handle: null, broken: true };
    const found: SpooledEvent[] = [];
    let skipped = 0;
    for await (const line of readLines(file)) {
      segment.size = line.end;
      const event = line.complete ? parseSpooledEvent(line.text) : null;
      if (event === null) {
        skipped += 1;
        continue;
      }
      found.push({ ...event, ref: { segment: number, offset: line.start, bytes: line.end - line.start - 1 } });
      segment.live += 1;
      this.liveBytes += line.end - line.start;
    }
    if (skipped > 0) this.options.log.warn({ file, lines: skipped }, 'unreadable lines in the outbox spool skipped');
    this.segments.set(number, segment);
    if (segment.live === 0) this.remove(segment);
    return found;
  }
}

interface RawSpoolLine {
  text: string;
  start: number;
  /** Offset just past the newline, or past the last byte for a cut line. */
  end: number;
  complete: boolean;
}

/** Yields each line of a file with its byte offsets. */
async function* readLines(file: string): AsyncGenerator<RawSpoolLine> {
  let rest: Buffer = Buffer.alloc(0);
  let restStart = 0;
  for await (const chunk of createReadStream(file) as AsyncIterable<Buffer>) {
    const buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
    let start = 0;
    let newline = buffer.indexOf(0x0a, start);
    while (newline !== -1) {
      yield { text: buffer.toString('utf8', start, newline), start: restStart + start, end: restStart + newline + 1, complete: true };
      start = newline + 1;
      newline = buffer.indexOf(0x0a, start);
    }
    rest = buffer.subarray(start);
    restStart += start;
  }
  if (rest.length > 0) yield { text: rest.toString('utf8'), start: restStart, end: restStart + rest.length, complete: false };
}

/** Reads the fields the outbox files an event by; the hub validates the whole event when it arrives. */
function parseSpooledEvent(text: string): Omit<SpooledEvent, 'ref'> | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof value !== 'object' || value === null) return null;
  const { runId, attempt, seq, type } = value as Record<string, unknown>;
  if (typeof runId !== 'string' || typeof attempt !== 'number' || typeof seq !== 'number' || typeof type !== 'string') return null;
  if (!['started', 'log', 'progress', 'records', 'finished'].includes(type)) return null;
  return { runId, attempt, seq, type: type as RunEventType };
}

/** Opens a segment's file once, however many callers ask at the same time. */
function handleOf(segment: Segment): Promise<FileHandle> {
  if (segment.handle === null) {
    const opening = open(segment.path, 'a+', 0o600);
    segment.handle = opening;
    opening.catch(() => {
      if (segment.handle === opening) segment.handle = null;
    });
  }
  return segment.handle;
}

async function closeHandle(segment: Segment): Promise<void> {
  const opening = segment.handle;
  segment.handle = null;
  if (opening === null) return;
  await opening.then((handle) => handle.close()).catch(() => undefined);
}

async function writeAll(handle: FileHandle, data: Buffer, position: number): Promise<void> {
  let written = 0;
  while (written < data.length) {
    const { bytesWritten } = await handle.write(data, written, data.length - written, position + written);
    written += bytesWritten;
  }
}
