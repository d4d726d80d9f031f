/**
 * Per-run output: log lines in `logs/<runId>.jsonl` and result records in
 * `records/<runId>.jsonl`, in the line format of `output-events.ts`. Appends
 * are buffered and written together once per flush interval, or at once by
 * `flushRuns`. Lines without a mark (the hub's own system lines) wait up to
 * `unmarkedFlushMs` instead. So a short run's file is usually opened, written
 * and synced once, with its agent's output, and not once more for the line
 * the hub wrote when it assigned the run. Open handles are capped: the least
 * recently used one is closed past the cap, and idle ones are closed.
 */
import { readdir, truncate } from 'node:fs/promises';
import { join, sep } from 'node:path';
import type { Logger } from 'pino';
import type { Json, StoredLogLine } from '../model.js';
import { errorText } from './errors.js';
import { removeFile } from './fs-util.js';
import { parseLine, readRawLines } from './json-lines.js';
import { LineFile } from './line-file.js';
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
   * Buffers log lines; they are appended to the run's log file with the next
   * flush. `mark` names the agent event they came from and makes them one line.
   */
  appendLog(runId: string, lines: StoredLogLine[], mark?: OutputMark): void;
  appendRecords(runId: string, records: Json[], mark?: OutputMark): void;
  /** Every line appended so far, in order, including lines not written yet. */
  readLog(runId: string): AsyncIterable<StoredLogLine>;
  readRecords(runId: string): AsyncIterable<Json>;
  /** Flushes and closes the run's files, once the run is final. */
  closeRun(runId: string): void;
  /**
   * Writes every file of these runs that has buffered lines with a mark (the
   * output of agent events), with the rest of its buffer. It also waits for
   * writes of such lines already under way, started by a flush or a close.
   * A file with only unmarked lines waits for its timer.
   * Rejects when a file could not be written; its lines stay buffered for the
   * next attempt.
   */
  flushRuns(runIds: Iterable<string>): Promise<void>;
  /**
   * Reads a run's output files back: the highest sequence number stored for
   * `attempt` and the counters of the run record. A last line cut short by a
   * crash is removed from the file, so only call this for a run no one appends to.
   */
  scanRun(runId: string, attempt: number): Promise<OutputScan>;
}

export interface OutputOptions {
  flushIntervalMs: number;
  /** fdatasync every write, so written output survives a power cut and not only a crash. */
  sync?: boolean;
  /** Most file handles open at once. */
  maxOpenFiles?: number;
  /** A handle unused for this long is closed. */
  idleCloseMs?: number;
  /** Maximum wait before lines without a mark are written, in ms. Default: the flush interval, at least 1000. */
  unmarkedFlushMs?: number;
}

type Kind = OutputKind;

const DEFAULT_UNMARKED_FLUSH_MS = 1000;

const SAFE_RUN_ID = /^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/;

/** Rejects run ids that could escape the output folders when used as a file name. */
function assertRunId(runId: string): void {
  if (!SAFE_RUN_ID.test(runId)) throw new RangeError(`run id ${JSON.stringify(runId)} cannot be used as a file name`);
}

export class FileRunOutputStore implements RunOutputStore {
  /** Known files in least recently used order: a use moves a file to the end. */
  private readonly files = new Map<string, LineFile>();
  private readonly dirty = new Set<LineFile>();
  /** Files with a flush under way, so a later flush can wait for them. */
  private readonly writing = new Map<LineFile, number>();
  private readonly closing = new Set<Promise<void>>();
  /** Handles open or being opened. */
  private openCount = 0;
  private readonly waiters: Array<() => void> = [];
  private readonly releasing = new Set<LineFile>();
  /**
   * Files with an open handle, least recently used first. `files` also
   * contains closed files until they are forgotten, so an eviction scans this
   * set, not all of `files`, whose size grows with the run rate.
   */
  private readonly openByRecency = new Set<LineFile>();
  private timer: NodeJS.Timeout | null = null;
  /** When the scheduled flush fires, in `Date.now()` ms. */
  private timerDue = 0;
  private readonly sweeper: NodeJS.Timeout;
  private readonly maxOpenFiles: number;
  private readonly idleCloseMs: number;
  private readonly unmarkedFlushMs: number;
  private readonly kindDirs: Record<Kind, string>;
  private closed = false;

  constructor(
    private readonly dataDir: string,
    private readonly log: Logger,
    private readonly options: OutputOptions,
  ) {
    this.maxOpenFiles = options.maxOpenFiles ?? 64;
    this.idleCloseMs = options.idleCloseMs ?? 30_000;
    this.kindDirs = { logs: join(dataDir, 'logs'), records: join(dataDir, 'records') };
    this.unmarkedFlushMs = options.unmarkedFlushMs ?? Math.max(options.flushIntervalMs, DEFAULT_UNMARKED_FLUSH_MS);
    this.sweeper = setInterval(() => this.sweepIdle(), Math.max(1000, this.idleCloseMs / 2));
    this.sweeper.unref();
  }

  get openFiles(): number {
    return this.openCount;
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
    const files: LineFile[] = [];
    for (const runId of runIds) {
      for (const file of this.filesOf(runId)) {
        // Unmarked lines alone can wait. The file itself tracks its marked lines, also those in a
        // write that another flush or a close started, so a failed write of them is never skipped.
        if (file.hasMarkedLines) files.push(file);
      }
    }
    await this.flushFiles(files);
  }

  private filesOf(runId: string): LineFile[] {
    const files: LineFile[] = [];
    for (const kind of ['logs', 'records'] as const) {
      const file = this.files.get(this.pathOf(kind, runId));
      if (file) files.push(file);
    }
    return files;
  }

  async scanRun(runId: string, attempt: number): Promise<OutputScan> {
    assertRunId(runId);
    await this.flushFiles(this.filesOf(runId));
    // NOTE: lastSeq is the highest mark in either file. Each file contains a prefix of its own
    // events. After a write that failed in one file only (a full disk) and a crash, the other file
    // may contain a later event than the missing one, and a resend then skips the missing one.
    const scan: OutputScan = { lastSeq: 0, logLines: 0, logBytes: 0, recordCount: 0, totalLogLines: 0 };
    for (const kind of ['logs', 'records'] as const) {
      const path = this.pathOf(kind, runId);
      const file = this.files.get(path);
      const scanFile = async (): Promise<void> => {
        let goodBytes = 0;
        let cut = false;
        for await (const raw of readRawLines(path)) {
          const parsed = parseLine(raw);
          if (!raw.terminated) {
            cut = true;
            break;
          }
          goodBytes += Buffer.byteLength(raw.text) + 1;
          if (parsed.ok) addToScan(scan, kind, parseOutputValue(kind, parsed.value), attempt);
        }
        if (!cut) return;
        await truncate(path, goodBytes);
        this.log.warn({ runId, kind }, 'output line cut short by a crash removed');
      };
      await (file ? file.exclusive(scanFile) : scanFile());
    }
    return scan;
  }

  closeRun(runId: string): void {
    assertRunId(runId);
    for (const kind of ['logs', 'records'] as const) {
      const file = this.files.get(this.pathOf(kind, runId));
      if (!file) continue;
      this.dirty.delete(file);
      const closing = file
        .close()
        .then(() => this.forgetIfIdle(file))
        .catch((err: unknown) => {
          this.dirty.add(file);
          this.log.error({ runId, kind, err: errorText(err) }, 'run output close failed, will retry');
          this.schedule(Math.max(this.options.flushIntervalMs, 1000));
        })
        .finally(() => this.closing.delete(closing));
      this.closing.add(closing);
    }
  }

  /** Writes every buffered line now, and waits for writes already under way. Rejects if a file could not be written. */
  async flush(): Promise<void> {
    this.clearTimer();
    await Promise.all([...this.closing]);
    await this.flushFiles(new Set([...this.dirty, ...this.writing.keys()]));
  }

  /** Flushes each file through its own queue, so the call also waits for a write another flush started. */
  private async flushFiles(files: Iterable<LineFile>): Promise<void> {
    const list = [...files];
    for (const file of list) {
      this.dirty.delete(file);
      this.writing.set(file, (this.writing.get(file) ?? 0) + 1);
    }
    const results = await Promise.allSettled(list.map((file) => file.flush()));
    list.forEach((file, index) => {
      const left = (this.writing.get(file) ?? 1) - 1;
      if (left > 0) this.writing.set(file, left);
      else this.writing.delete(file);
      if (results[index]?.status === 'rejected' || file.hasPending) this.dirty.add(file);
    });
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  /** Closes a run's files and deletes them, for retention. */
  async deleteRun(runId: string): Promise<void> {
    for (const kind of ['logs', 'records'] as const) {
      const path = this.pathOf(kind, runId);
      const file = this.files.get(path);
      if (file) {
        this.dirty.delete(file);
        this.files.delete(path);
        await file.exclusive(() => removeFile(path));
      } else {
        await removeFile(path);
      }
    }
  }

  /** Deletes output files of runs for which `keep` is false, such as leftovers of a crash during retention. */
  async deleteOrphans(keep: (runId: string) => boolean): Promise<number> {
    let deleted = 0;
    for (const kind of ['logs', 'records'] as const) {
      for (const name of await readdir(join(this.dataDir, kind))) {
        if (!name.endsWith('.jsonl')) continue;
        const runId = name.slice(0, -'.jsonl'.length);
        if (keep(runId) || this.files.has(join(this.dataDir, kind, name))) continue;
        await removeFile(join(this.dataDir, kind, name));
        deleted += 1;
      }
    }
    return deleted;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweeper);
    // Each file's close writes its own buffer, so one failing file does not keep the others open.
    this.clearTimer();
    await Promise.all([...this.closing]);
    const files = [...this.files.values()];
    const results = await Promise.allSettled(files.map((file) => file.close()));
    this.files.clear();
    this.dirty.clear();
    const failure = results.find((result) => result.status === 'rejected');
    if (failure) throw failure.reason;
  }

  private append(kind: Kind, runId: string, values: readonly unknown[], mark: OutputMark | undefined): void {
    if (this.closed) throw new Error('run output store is closed');
    if (values.length === 0) return;
    const file = this.fileFor(kind, runId);
    for (const line of serializeOutput(kind, values, mark)) file.append(line, mark !== undefined);
    this.dirty.add(file);
    this.schedule(mark === undefined ? this.unmarkedFlushMs : this.options.flushIntervalMs);
  }

  private async *read<T>(kind: Kind, runId: string, accept: (value: unknown) => value is T): AsyncGenerator<T> {
    const file = this.fileFor(kind, runId);
    const snapshot = await file.snapshot();
    let bad = 0;
    for await (const raw of readRawLines(file.path, snapshot.size)) {
      const parsed = parseLine(raw);
      const items = parsed.ok ? parseOutputValue(kind, parsed.value).items : [undefined];
      for (const item of items) {
        if (accept(item)) yield item;
        else bad += 1;
      }
    }
    if (bad > 0) this.log.warn({ runId, kind, lines: bad }, 'invalid output lines skipped');
    for (const line of snapshot.pending) {
      for (const item of parseOutputValue(kind, JSON.parse(line)).items) if (accept(item)) yield item;
    }
  }

  /** Same as `join(dataDir, kind, runId + '.jsonl')` for the run ids `assertRunId` accepts, without join's normalization on every lookup. */
  private pathOf(kind: Kind, runId: string): string {
    return `${this.kindDirs[kind]}${sep}${runId}.jsonl`;
  }

  private fileFor(kind: Kind, runId: string): LineFile {
    assertRunId(runId);
    const path = this.pathOf(kind, runId);
    let file = this.files.get(path);
    if (file) {
      this.files.delete(path);
      if (this.openByRecency.delete(file)) this.openByRecency.add(file);
    } else {
      file = new LineFile(path, {
        sync: this.options.sync ?? false,
        acquire: () => this.acquireHandle(),
        onOpen: (opened) => this.onOpen(opened),
        onClose: (closed) => this.onClose(closed),
      });
    }
    this.files.set(path, file);
    return file;
  }

  /** Takes a handle slot, closing the least recently used open file while none is free. */
  private async acquireHandle(): Promise<void> {
    while (this.openCount >= this.maxOpenFiles) {
      this.evictOne();
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    this.openCount += 1;
  }

  private onOpen(file: LineFile): void {
    this.openByRecency.add(file);
    // A waiter found nothing to evict while this file was opening; now it can.
    if (this.waiters.length > 0) this.evictOne();
  }

  private onClose(file: LineFile): void {
    this.openByRecency.delete(file);
    this.openCount -= 1;
    this.releasing.delete(file);
    this.waiters.shift()?.();
  }

  private evictOne(): void {
    for (const file of this.openByRecency) {
      if (!file.isOpen || this.releasing.has(file)) continue;
      this.releaseHandle(file);
      return;
    }
  }

  private releaseHandle(file: LineFile): void {
    this.releasing.add(file);
    file
      .release()
      .catch((err: unknown) => this.log.warn({ err: errorText(err) }, 'run output file close failed'))
      .finally(() => this.releasing.delete(file));
  }

  private forgetIfIdle(file: LineFile): void {
    if (file.idle && this.files.get(file.path) === file) this.files.delete(file.path);
  }

  private sweepIdle(): void {
    const now = Date.now();
    for (const file of [...this.files.values()]) {
      if (now - file.lastUsed < this.idleCloseMs) continue;
      if (file.isOpen && !file.hasPending && !this.releasing.has(file)) {
        this.releaseHandle(file);
      } else {
        this.forgetIfIdle(file);
      }
    }
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
      this.flush().catch((err: unknown) => {
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
