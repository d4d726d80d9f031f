/**
 * Run output: log lines and result records of every run, appended together
 * to shared segment files in `output/`, in the line format of
 * `output-events.ts`. Each write appends the buffered lines of all runs to
 * `NNNNNNNN.jsonl` and one index line per run and kind to `NNNNNNNN.idx`,
 * then fdatasyncs both. A whole round of runs costs one write and one sync
 * per file, where a file per run cost a create, a write and a sync each.
 *
 * The index lines (`runId kind offset length`) are read at open into memory,
 * so a run's output is read back with positional reads of its extents. A
 * segment is written only by the hub that created it: after a restart the
 * next write starts a new one, so a crash never leaves a half line that a
 * later write would follow. A segment is deleted once retention has deleted
 * every run with output in it.
 *
 * Output files of one run per file (`logs/<runId>.jsonl`,
 * `records/<runId>.jsonl`) from earlier versions are still read and deleted,
 * never written.
 */
import { mkdir, open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Json, StoredLogLine } from '../model.js';
import { errorCode, errorText } from './errors.js';
import { SerialQueue, removeFile, syncDirectory, withRetry } from './fs-util.js';
import { parseLine, readRawLines, type RawLine } from './json-lines.js';
import {
  addToScan,
  isLogLine,
  isRecord,
  parseOutputValue,
  serializeOutput,
  type OutputKind,
  type OutputMark,
  type OutputScan,
} from './output-events.js';

export type { OutputMark, OutputScan } from './output-events.js';

export interface RunOutputStore {
  /**
   * Buffers log lines; they are appended with the next flush. `mark` names
   * the agent event they came from and makes them one line.
   */
  appendLog(runId: string, lines: StoredLogLine[], mark?: OutputMark): void;
  appendRecords(runId: string, records: Json[], mark?: OutputMark): void;
  /** Every line appended so far, in order, including lines not written yet. */
  readLog(runId: string): AsyncIterable<StoredLogLine>;
  readRecords(runId: string): AsyncIterable<Json>;
  /**
   * Writes the buffered output when these runs have lines with a mark (the
   * output of agent events) in it, or in a write under way, and waits for it.
   * Output with only unmarked lines waits for its timer.
   * Rejects when the write failed; its lines stay buffered for the next attempt.
   */
  flushRuns(runIds: Iterable<string>): Promise<void>;
  /**
   * Reads a run's stored output back: the highest sequence number stored for
   * `attempt` and the counters of the run record.
   */
  scanRun(runId: string, attempt: number): Promise<OutputScan>;
}

export interface OutputOptions {
  flushIntervalMs: number;
  /** fdatasync every write, so written output survives a power cut and not only a crash. */
  sync?: boolean;
  /** Maximum wait before lines without a mark are written, in ms. Default: the flush interval, at least 1000. */
  unmarkedFlushMs?: number;
  /** A segment that has reached this size takes no more writes; the next one starts a new segment. */
  segmentBytes?: number;
}

type Kind = OutputKind;

const KINDS: readonly Kind[] = ['logs', 'records'];
const KIND_CODE: Record<Kind, string> = { logs: 'l', records: 'r' };
const INDEX_KINDS: Record<string, Kind | undefined> = { l: 'logs', r: 'records' };
const DEFAULT_UNMARKED_FLUSH_MS = 1000;
const DEFAULT_SEGMENT_BYTES = 64 * 1024 * 1024;
const SEGMENT_DIGITS = 8;
const SEGMENT_NAME = /^(\d{8})\.(jsonl|idx)$/;
const NEWLINE = 0x0a;

const SAFE_RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** Rejects run ids that could escape the output folder or break an index line. */
function assertRunId(runId: string): void {
  if (!SAFE_RUN_ID.test(runId)) throw new RangeError(`run id ${JSON.stringify(runId)} cannot be stored`);
}

/** Serialized lines of one run and kind, waiting for a write. */
interface Chunk {
  runId: string;
  kind: Kind;
  lines: string[];
  marked: boolean;
}

/** Byte ranges of a run's output of one kind, in the order written: triples of segment number, offset and length. */
type Extents = number[];

/**
 * Every byte range of a run's output, in the order written: quadruples of
 * kind (`KIND_NUMBER`), segment number, offset and length in one flat array.
 * A long run's thousands of extents then take about 32 bytes each, and a
 * short run's take one small array.
 */
type RunExtents = number[];

const KIND_NUMBER: Record<Kind, number> = { logs: 0, records: 1 };

/** Run id, kind, segment number, offset and length of one written extent. */
type WrittenExtent = [string, Kind, number, number, number];

/** The segment that takes writes. */
interface OpenSegment {
  number: number;
  data: FileHandle;
  index: FileHandle;
  dataSize: number;
  indexSize: number;
  /** Set until the directory is synced after the files were created. */
  entriesUnsynced: boolean;
}

export class SegmentOutputStore implements RunOutputStore {
  private readonly runs = new Map<string, RunExtents>();
  /** How many runs have output in each segment, so a segment is deleted with its last run. */
  private readonly segmentRuns = new Map<number, number>();
  /** Runs with a file of an earlier version, per kind. */
  private readonly legacy: Record<Kind, Set<string>>;
  private pending: Chunk[] = [];
  /** The chunks of the write under way, readable until they are in `runs`. */
  private writing: Chunk[] = [];
  /** Marked chunks per run, buffered or in a write under way. */
  private readonly markedChunks = new Map<string, number>();
  /** Runs deleted while a write of their output was under way; that output is not indexed. */
  private readonly deletedWhileWriting = new Set<string>();
  private current: OpenSegment | null = null;
  private nextSegment: number;
  private readonly queue = new SerialQueue();
  private timer: NodeJS.Timeout | null = null;
  /** When the scheduled flush fires, in `Date.now()` ms. */
  private timerDue = 0;
  private readonly unmarkedFlushMs: number;
  private readonly segmentBytes: number;
  private closed = false;

  private constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
    private readonly options: OutputOptions,
    lastSegment: number,
    legacy: Record<Kind, Set<string>>,
  ) {
    this.nextSegment = lastSegment + 1;
    this.legacy = legacy;
    this.unmarkedFlushMs = options.unmarkedFlushMs ?? Math.max(options.flushIntervalMs, DEFAULT_UNMARKED_FLUSH_MS);
    this.segmentBytes = options.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  }

  /** Reads the index of every segment in `dataDir/output`, creating the folder when missing. */
  static async open(dataDir: string, log: Logger, options: OutputOptions): Promise<SegmentOutputStore> {
    const dir = join(dataDir, 'output');
    await mkdir(dir, { recursive: true, mode: 0o700 });
    const legacy = { logs: await legacyRuns(join(dataDir, 'logs')), records: await legacyRuns(join(dataDir, 'records')) };
    const segments = new Set<number>();
    for (const name of await readdir(dir)) {
      const match = SEGMENT_NAME.exec(name);
      if (match) segments.add(Number(match[1]));
    }
    const store = new SegmentOutputStore(dataDir, log, options, Math.max(0, ...segments), legacy);
    const unindexed = new Set<number>();
    for (const segment of [...segments].sort((a, b) => a - b)) {
      if (!(await store.loadSegment(segment))) unindexed.add(segment);
    }
    for (const segment of segments) {
      if (store.segmentRuns.has(segment)) continue;
      if (unindexed.has(segment)) {
        // Without its index the data cannot be read, but it is not ours to destroy: someone may restore the index.
        log.warn({ segment: store.segmentPath(segment, 'jsonl') }, 'output segment has no index file; its output cannot be read and the file is kept');
        continue;
      }
      // Retention was cut short, or a crash came before the index: nothing readable is left.
      await store.removeSegment(segment);
    }
    return store;
  }

  appendLog(runId: string, lines: StoredLogLine[], mark?: OutputMark): void {
    this.append('logs', runId, lines, mark);
  }

  appendRecords(runId: string, records: Json[], mark?: OutputMark): void {
    this.append('records', runId, records, mark);
  }

  readLog(runId: string): AsyncIterable<StoredLogLine> {
    return this.read('logs', runId, isLogLine);
  }

  readRecords(runId: string): AsyncIterable<Json> {
    return this.read('records', runId, isRecord);
  }

  async flushRuns(runIds: Iterable<string>): Promise<void> {
    for (const runId of runIds) {
      if ((this.markedChunks.get(runId) ?? 0) > 0) return this.writeQueued();
    }
  }

  async scanRun(runId: string, attempt: number): Promise<OutputScan> {
    assertRunId(runId);
    if (this.hasBuffered(runId)) await this.writeQueued();
    const scan: OutputScan = { lastSeq: 0, logLines: 0, logBytes: 0, recordCount: 0, totalLogLines: 0 };
    for (const kind of KINDS) {
      for await (const raw of this.storedLines(kind, runId, this.extentsOf(kind, runId))) {
        const parsed = parseLine(raw);
        if (raw.terminated && parsed.ok) addToScan(scan, kind, parseOutputValue(kind, parsed.value), attempt);
      }
    }
    return scan;
  }

  /** Writes every buffered line now, and waits for a write already under way. Rejects if the write failed. */
  flush(): Promise<void> {
    this.clearTimer();
    return this.writeQueued();
  }

  /** Deletes a run's output, for retention; a segment goes with the last run in it. */
  async deleteRun(runId: string): Promise<void> {
    this.dropBuffered(runId);
    if (this.writing.some((chunk) => chunk.runId === runId)) this.deletedWhileWriting.add(runId);
    await this.forgetRun(runId);
    for (const kind of KINDS) {
      if (!this.legacy[kind].delete(runId)) continue;
      await removeFile(this.legacyPath(kind, runId));
    }
  }

  /** Deletes the output of runs for which `keep` is false, such as leftovers of a crash during retention. */
  async deleteOrphans(keep: (runId: string) => boolean): Promise<number> {
    let deleted = 0;
    const known = new Set([...this.runs.keys(), ...this.legacy.logs, ...this.legacy.records]);
    const buffered = new Set([...this.writing, ...this.pending].map((chunk) => chunk.runId));
    for (const runId of known) {
      if (keep(runId) || buffered.has(runId)) continue;
      await this.deleteRun(runId);
      deleted += 1;
    }
    return deleted;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.clearTimer();
    try {
      await this.writeQueued();
    } finally {
      await this.queue.run(() => this.closeSegment());
    }
  }

  private append(kind: Kind, runId: string, values: readonly unknown[], mark: OutputMark | undefined): void {
    if (this.closed) throw new Error('run output store is closed');
    assertRunId(runId);
    if (values.length === 0) return;
    const marked = mark !== undefined;
    this.pending.push({ runId, kind, lines: serializeOutput(kind, values, mark), marked });
    if (marked) this.markedChunks.set(runId, (this.markedChunks.get(runId) ?? 0) + 1);
    this.schedule(marked ? this.options.flushIntervalMs : this.unmarkedFlushMs);
  }

  private async *read<T>(kind: Kind, runId: string, accept: (value: unknown) => value is T): AsyncGenerator<T> {
    assertRunId(runId);
    // Taken at once, so a write that ends during the read moves no line out of this view or into it twice.
    const extents = this.extentsOf(kind, runId);
    const buffered = [...this.writing, ...this.pending].filter((chunk) => chunk.runId === runId && chunk.kind === kind);
    let bad = 0;
    for await (const raw of this.storedLines(kind, runId, extents)) {
      const parsed = parseLine(raw);
      const items = parsed.ok ? parseOutputValue(kind, parsed.value).items : [undefined];
      for (const item of items) {
        if (accept(item)) yield item;
        else bad += 1;
      }
    }
    if (bad > 0) this.log.warn({ runId, kind, lines: bad }, 'invalid output lines skipped');
    for (const chunk of buffered) {
      for (const line of chunk.lines) {
        for (const item of parseOutputValue(kind, JSON.parse(line)).items) if (accept(item)) yield item;
      }
    }
  }

  /** The stored lines of a run: its file of an earlier version, then its extents in segments. */
  private async *storedLines(kind: Kind, runId: string, extents: Extents): AsyncGenerator<RawLine> {
    if (this.legacy[kind].has(runId)) yield* readRawLines(this.legacyPath(kind, runId));
    let handle: FileHandle | null = null;
    let segment = -1;
    try {
      for (let at = 0; at < extents.length; at += 3) {
        const [number, offset, length] = [extents[at]!, extents[at + 1]!, extents[at + 2]!];
        if (number !== segment) {
          await handle?.close();
          handle = null;
          segment = number;
          handle = await unlessMissing(open(this.segmentPath(number, 'jsonl'), 'r'));
        }
        // A segment deleted by retention during the read ends it: the run is gone.
        if (!handle) return;
        yield* splitLines(await readExactly(handle, offset, length));
      }
    } finally {
      await handle?.close();
    }
  }

  private extentsOf(kind: Kind, runId: string): Extents {
    const all = this.runs.get(runId) ?? [];
    const extents: Extents = [];
    for (let at = 0; at < all.length; at += 4) {
      if (all[at] === KIND_NUMBER[kind]) extents.push(all[at + 1]!, all[at + 2]!, all[at + 3]!);
    }
    return extents;
  }

  private hasBuffered(runId: string): boolean {
    return [...this.writing, ...this.pending].some((chunk) => chunk.runId === runId);
  }

  private dropBuffered(runId: string): void {
    this.pending = this.pending.filter((chunk) => {
      if (chunk.runId !== runId) return true;
      if (chunk.marked) this.releaseMark(chunk);
      return false;
    });
  }

  private releaseMark(chunk: Chunk): void {
    const left = (this.markedChunks.get(chunk.runId) ?? 1) - 1;
    if (left > 0) this.markedChunks.set(chunk.runId, left);
    else this.markedChunks.delete(chunk.runId);
  }

  /**
   * Queues a write of everything buffered. Calls that arrive while a write is
   * under way share the next one, so a burst of acknowledgements costs a few
   * writes and syncs, not one each.
   */
  private writeQueued(): Promise<void> {
    return this.queue.run(() => this.writePending());
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.writing = batch;
    try {
      const written = await this.writeBatch(batch);
      for (const chunk of batch) if (chunk.marked) this.releaseMark(chunk);
      for (const [runId, kind, segment, offset, length] of written) {
        if (!this.deletedWhileWriting.has(runId)) this.addExtent(runId, kind, segment, offset, length);
      }
    } catch (err) {
      const kept = batch.filter((chunk) => {
        if (!this.deletedWhileWriting.has(chunk.runId)) return true;
        if (chunk.marked) this.releaseMark(chunk);
        return false;
      });
      this.pending = kept.concat(this.pending);
      throw err;
    } finally {
      this.writing = [];
      this.deletedWhileWriting.clear();
    }
  }

  /** Appends a batch to the current segment and its index; returns the extent of each run and kind. */
  private async writeBatch(batch: readonly Chunk[]): Promise<WrittenExtent[]> {
    const segment = await this.segmentForWrite();
    const { data, index, written } = layOut(batch, segment);
    const sync = this.options.sync ?? false;
    try {
      // The entries are synced before the first write, so a failure leaves nothing that names the new files.
      if (sync && segment.entriesUnsynced) {
        await syncDirectory(join(this.dataDir, 'output'));
        segment.entriesUnsynced = false;
      }
      await writeAll(segment.data, data);
      await writeAll(segment.index, index);
      if (sync) await Promise.all([segment.data.datasync(), segment.index.datasync()]);
    } catch (err) {
      await this.undoPartialWrite(segment);
      throw err;
    }
    segment.dataSize += data.length;
    segment.indexSize += index.length;
    return written;
  }

  /**
   * Cuts both files back to their size before a failed write, so the retry
   * neither repeats lines nor leaves index lines behind. The data goes first:
   * once it is cut, every index line of the failed write points past it and
   * is dropped when the store opens, even if the index cannot be cut. When a
   * cut fails, the segment takes no more writes, so its data never grows
   * under such a line again.
   */
  private async undoPartialWrite(segment: OpenSegment): Promise<void> {
    try {
      await segment.data.truncate(segment.dataSize);
      await segment.index.truncate(segment.indexSize);
    } catch (err) {
      this.log.warn({ segment: segment.number, err: errorText(err) }, 'output segment could not be cut back after a failed write; starting a new one');
      await this.closeSegment();
    }
  }

  private async segmentForWrite(): Promise<OpenSegment> {
    if (this.current && this.current.dataSize < this.segmentBytes) return this.current;
    await this.closeSegment();
    const number = this.nextSegment;
    this.nextSegment += 1;
    const data = await withRetry(() => open(this.segmentPath(number, 'jsonl'), 'ax', 0o600));
    let index: FileHandle;
    try {
      index = await withRetry(() => open(this.segmentPath(number, 'idx'), 'ax', 0o600));
    } catch (err) {
      await data.close();
      await removeFile(this.segmentPath(number, 'jsonl'));
      throw err;
    }
    this.current = { number, data, index, dataSize: 0, indexSize: 0, entriesUnsynced: true };
    return this.current;
  }

  private async closeSegment(): Promise<void> {
    const segment = this.current;
    if (!segment) return;
    this.current = null;
    await Promise.allSettled([segment.data.close(), segment.index.close()]);
    // Its runs may all have been deleted while it was the current segment.
    if (!this.segmentRuns.has(segment.number)) await this.removeSegment(segment.number);
  }

  /** Adds an extent; a run's extents come in the order of their segments, at open as when written. */
  private addExtent(runId: string, kind: Kind, segment: number, offset: number, length: number): void {
    let extents = this.runs.get(runId);
    if (!extents) {
      extents = [];
      this.runs.set(runId, extents);
    }
    // The segments only grow, so the run is new to this one unless its last extent is in it.
    if (extents[extents.length - 3] !== segment) this.segmentRuns.set(segment, (this.segmentRuns.get(segment) ?? 0) + 1);
    extents.push(KIND_NUMBER[kind], segment, offset, length);
  }

  private async forgetRun(runId: string): Promise<void> {
    const extents = this.runs.get(runId);
    if (!extents) return;
    this.runs.delete(runId);
    for (let at = 1; at < extents.length; at += 4) {
      const segment = extents[at]!;
      if (segment === extents[at - 4]) continue;
      const left = (this.segmentRuns.get(segment) ?? 1) - 1;
      if (left > 0) {
        this.segmentRuns.set(segment, left);
      } else {
        this.segmentRuns.delete(segment);
        if (segment !== this.current?.number) await this.removeSegment(segment);
      }
    }
  }

  private async removeSegment(segment: number): Promise<void> {
    this.segmentRuns.delete(segment);
    await removeFile(this.segmentPath(segment, 'idx'));
    await removeFile(this.segmentPath(segment, 'jsonl'));
  }

  /**
   * Reads a segment's index lines; an extent is kept only when it lies whole
   * within the data written. Returns false when the index file is missing
   * while the data is not empty. The index is read in one piece, because a
   * hub restart reads every index. NOTE: runs that print a line at a time
   * make an index line per write, so an index can reach about 40 % of its
   * segment's size, and each extent stays in memory.
   */
  private async loadSegment(segment: number): Promise<boolean> {
    const size = (await unlessMissing(stat(this.segmentPath(segment, 'jsonl'))))?.size ?? 0;
    const text = await unlessMissing(readFile(this.segmentPath(segment, 'idx'), 'utf8'));
    // A crash between creating the data file and its index leaves an empty data file, which is no loss.
    if (text === null) return size === 0;
    const lines = text.split('\n');
    // The last piece is empty after a final newline, or a line a crash cut short.
    let bad = lines.pop() === '' ? 0 : 1;
    for (const line of lines) {
      const extent = parseIndexLine(line);
      if (extent && extent.offset + extent.length <= size) this.addExtent(extent.runId, extent.kind, segment, extent.offset, extent.length);
      else bad += 1;
    }
    if (bad > 0) this.log.warn({ segment, lines: bad }, 'output index lines skipped: cut short by a crash or pointing past the data');
    return true;
  }

  private segmentPath(segment: number, extension: 'jsonl' | 'idx'): string {
    return join(this.dataDir, 'output', `${String(segment).padStart(SEGMENT_DIGITS, '0')}.${extension}`);
  }

  private legacyPath(kind: Kind, runId: string): string {
    return `${this.dataDir}${sep}${kind}${sep}${runId}.jsonl`;
  }

  /** Arms the flush timer, or brings it forward when it would fire later than `delayMs` from now. */
  private schedule(delayMs: number): void {
    if (this.closed) return;
    const due = Date.now() + delayMs;
    if (this.timer) {
      if (this.timerDue <= due) return;
      clearTimeout(this.timer);
    }
    this.timerDue = due;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.writeQueued().catch((err: unknown) => {
        this.log.error({ err: errorText(err) }, 'run output write failed, will retry');
        this.schedule(Math.max(this.options.flushIntervalMs, 1000));
      });
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}

/**
 * Lays a batch out at the end of `segment`: the data and the index lines to
 * append, and the extent of each run and kind. A run's chunks of one kind are
 * joined in the order they came, so each gets one extent per write.
 */
function layOut(batch: readonly Chunk[], segment: OpenSegment): { data: Buffer; index: Buffer; written: WrittenExtent[] } {
  const groups = new Map<string, { runId: string; kind: Kind; lines: string[] }>();
  for (const chunk of batch) {
    const key = `${chunk.kind} ${chunk.runId}`;
    const group = groups.get(key);
    if (group) group.lines.push(...chunk.lines);
    else groups.set(key, { runId: chunk.runId, kind: chunk.kind, lines: [...chunk.lines] });
  }
  const written: WrittenExtent[] = [];
  const texts: string[] = [];
  const indexLines: string[] = [];
  let offset = segment.dataSize;
  for (const { runId, kind, lines } of groups.values()) {
    const text = lines.join('\n') + '\n';
    const length = Buffer.byteLength(text);
    texts.push(text);
    indexLines.push(`${runId} ${KIND_CODE[kind]} ${offset} ${length}\n`);
    written.push([runId, kind, segment.number, offset, length]);
    offset += length;
  }
  return { data: Buffer.from(texts.join('')), index: Buffer.from(indexLines.join('')), written };
}

/** Parses `runId kind offset length`. The run id is only a key here, never part of a path, so it is not checked further. */
function parseIndexLine(text: string): { runId: string; kind: Kind; offset: number; length: number } | null {
  const first = text.indexOf(' ');
  const second = first + 2;
  const third = text.indexOf(' ', second + 1);
  if (first < 1 || text[second] !== ' ' || third === -1) return null;
  const kind = INDEX_KINDS[text[first + 1] ?? ''];
  const offset = Number(text.slice(second + 1, third));
  const length = Number(text.slice(third + 1));
  if (!kind || !Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length <= 0) return null;
  return { runId: text.slice(0, first), kind, offset, length };
}

/** Run ids with a one-file-per-run output file of an earlier version in `dir`. */
async function legacyRuns(dir: string): Promise<Set<string>> {
  const names = (await unlessMissing(readdir(dir))) ?? [];
  return new Set(names.filter((name) => name.endsWith('.jsonl')).map((name) => name.slice(0, -'.jsonl'.length)));
}

async function writeAll(handle: FileHandle, data: Buffer): Promise<void> {
  let done = 0;
  while (done < data.length) {
    const { bytesWritten } = await handle.write(data, done, data.length - done, null);
    done += bytesWritten;
  }
}

async function readExactly(handle: FileHandle, offset: number, length: number): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buffer, done, length - done, offset + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return buffer.subarray(0, done);
}

/** Lines of an extent; the last is unterminated only when the data ended early. */
function* splitLines(data: Buffer): Generator<RawLine> {
  let start = 0;
  for (let end = data.indexOf(NEWLINE); end !== -1; end = data.indexOf(NEWLINE, start)) {
    if (end > start) yield { text: data.toString('utf8', start, end), terminated: true };
    start = end + 1;
  }
  if (start < data.length) yield { text: data.toString('utf8', start), terminated: false };
}

/** Resolves to null when the file or folder an operation needs does not exist; other errors are raised. */
async function unlessMissing<T>(operation: Promise<T>): Promise<T | null> {
  try {
    return await operation;
  } catch (err) {
    if (errorCode(err) === 'ENOENT') return null;
    throw err;
  }
}
