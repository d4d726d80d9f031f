/**
 * Run records: one JSON line per state change, appended to a segment file per
 * UTC day (`runs/YYYY-MM-DD.jsonl`), the whole run or only the fields that
 * changed (`run-lines.ts`). The whole history is read once at open into a
 * `RunIndex`, the last line of a run winning. A put costs one serialization
 * and a share of one coalesced append, whatever the history.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isFinal, type Run, type RunFilter } from '../model.js';
import { errorText } from './errors.js';
import { SerialQueue, removeFile, writeFileAtomic } from './fs-util.js';
import { parseLine, readRawLines } from './json-lines.js';
import { LineFile } from './line-file.js';
import { RunIndex } from './run-index.js';
import { applyPatch, asStoredRun, isPatchLine, serializeRunLine } from './run-lines.js';
import { selectExpiredRuns } from './retention.js';
import type { Settings } from './schema.js';

export interface RunStore {
  /**
   * Records the run's current state: in memory at once, on disk with the next
   * flush. The store keeps `run` itself, so treat it as read-only afterwards.
   */
  put(run: Run): void;
  /**
   * Records a change that need not survive a restart, such as a queued run's
   * waiting reason, in memory only. The run's next put writes it with its
   * other changes.
   */
  update(run: Run): void;
  get(id: string): Run | undefined;
  /** Newest queued first; see `RunFilter`. */
  list(filter: RunFilter): Run[];
  /** Runs not in a final status, for reconciliation at start. */
  nonFinal(): Run[];
  count(): number;
  latestForJob(jobId: string): Run | undefined;
}

const SEGMENT_NAME = /^\d{4}-\d{2}-\d{2}\.jsonl$/;

interface SegmentStats {
  /** Lines in the file, bad ones included. */
  lines: number;
  /** Runs whose latest line is in this file. */
  live: number;
}

/** Returns the name of the segment for records written at `time`. */
function segmentName(time: number): string {
  return `${new Date(time).toISOString().slice(0, 10)}.jsonl`;
}

export class SegmentRunStore implements RunStore {
  private readonly index = new RunIndex();
  /** Puts not written yet, in order. They are serialized when written, so each line can be a patch over the one before. */
  private pending: Run[] = [];
  /**
   * The run as its last line in `writtenSegment` left it, for runs that are
   * not final. A later line of the run in that segment is a patch over it.
   */
  private readonly written = new Map<string, Run>();
  private writtenSegment: string | null = null;
  private readonly segmentOf = new Map<string, string>();
  private readonly segments = new Map<string, SegmentStats>();
  private active: LineFile | null = null;
  private readonly queue = new SerialQueue();
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  private constructor(
    private readonly dir: string,
    private readonly log: Logger,
    private readonly flushIntervalMs: number,
    private readonly beforeWrite: (runIds: ReadonlySet<string>) => Promise<void>,
  ) {}

  /**
   * Reads every segment of `dir` and builds the index. `beforeWrite` runs
   * before each append of run records, with the ids of the runs it writes.
   * The store passes a flush of those runs' output, so a record on disk
   * never counts output that is not on disk.
   */
  static async load(
    dir: string,
    log: Logger,
    flushIntervalMs: number,
    beforeWrite: (runIds: ReadonlySet<string>) => Promise<void> = async () => undefined,
  ): Promise<SegmentRunStore> {
    const store = new SegmentRunStore(dir, log, flushIntervalMs, beforeWrite);
    const names = (await readdir(dir)).filter((name) => SEGMENT_NAME.test(name)).sort();
    for (const name of names) await store.loadSegment(name);
    log.debug({ runs: store.index.count(), segments: names.length }, 'run index loaded');
    return store;
  }

  put(run: Run): void {
    if (this.closed) throw new Error('run store is closed');
    this.index.set(run);
    this.pending.push(run);
    this.schedule(this.flushIntervalMs);
  }

  update(run: Run): void {
    if (this.closed) throw new Error('run store is closed');
    this.index.set(run);
  }

  get(id: string): Run | undefined {
    return this.index.get(id);
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  list(filter: RunFilter): Run[] {
    return this.index.list(filter);
  }

  nonFinal(): Run[] {
    return this.index.nonFinal();
  }

  count(): number {
    return this.index.count();
  }

  latestForJob(jobId: string): Run | undefined {
    return this.index.latestForJob(jobId);
  }

  /** Writes every pending put to today's segment, durably. */
  flush(): Promise<void> {
    this.clearTimer();
    return this.queue.run(() => this.writePending()).catch((err: unknown) => {
      // The records stay pending; the timer retries them even when nothing else writes again.
      this.schedule(Math.max(this.flushIntervalMs, 1000));
      throw err;
    });
  }

  /**
   * Deletes expired final runs from the index and rewrites the segments that
   * hold lines of deleted runs or older states. Returns the deleted run ids.
   */
  applyRetention(settings: Pick<Settings, 'retentionDays' | 'retentionPerJob'>, now = Date.now()): Promise<string[]> {
    return this.queue.run(async () => {
      await this.writePending();
      const expired = selectExpiredRuns(this.index.runs(), settings, now);
      this.index.deleteMany(expired);
      for (const id of expired) this.moveLatest(id, null);
      await this.compact();
      return [...expired];
    });
  }

  async close(): Promise<void> {
    try {
      await this.flush();
    } finally {
      this.closed = true;
      this.clearTimer();
      await this.queue.run(async () => {
        await this.active?.close();
        this.active = null;
      });
    }
  }

  private async loadSegment(name: string): Promise<void> {
    const stats = this.stats(name);
    let bad = 0;
    for await (const raw of readRawLines(join(this.dir, name))) {
      stats.lines += 1;
      const parsed = parseLine(raw);
      const run = parsed.ok ? this.readLine(parsed.value, name) : null;
      if (run !== null) {
        this.index.set(run);
        this.moveLatest(run.id, name);
      } else if (!raw.terminated) {
        this.log.warn({ segment: name }, 'truncated last run record skipped');
      } else {
        bad += 1;
      }
    }
    if (bad > 0) this.log.warn({ segment: name, lines: bad }, 'invalid run records skipped');
  }

  /** Returns the run a stored line describes. A patch is applied to the run as the earlier lines of the same segment left it. */
  private readLine(value: unknown, segment: string): Run | null {
    if (!isPatchLine(value)) return asStoredRun(value);
    const base = this.segmentOf.get(value.id) === segment ? this.index.get(value.id) : undefined;
    return base === undefined ? null : applyPatch(base, value);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.closed) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.queue.run(() => this.writePending()).catch((err: unknown) => {
        this.log.error({ err: errorText(err), pending: this.pending.length }, 'run records write failed, will retry');
        this.schedule(Math.max(this.flushIntervalMs, 1000));
      });
    }, delayMs);
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }

  private async writePending(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const segment = segmentName(Date.now());
    let latest: Map<string, Run | undefined>;
    try {
      await this.beforeWrite(new Set(batch.map((run) => run.id)));
      const file = await this.activeFile(segment);
      if (segment !== this.writtenSegment) {
        this.written.clear();
        this.writtenSegment = segment;
      }
      const serialized = this.serialize(batch);
      latest = serialized.latest;
      await file.write(serialized.lines);
    } catch (err) {
      this.pending = batch.concat(this.pending);
      throw err;
    }
    for (const [id, run] of latest) {
      if (run === undefined) this.written.delete(id);
      else this.written.set(id, run);
    }
    this.stats(segment).lines += batch.length;
    for (const run of batch) {
      if (this.index.has(run.id)) this.moveLatest(run.id, segment);
    }
  }

  /**
   * Serializes a batch for the active segment, each run after its first line
   * there as a patch. `latest` is what `written` becomes once the batch is on
   * disk. A failed write leaves `written` as it was, so the retry produces the same lines.
   */
  private serialize(batch: readonly Run[]): { lines: string[]; latest: Map<string, Run | undefined> } {
    const latest = new Map<string, Run | undefined>();
    const lines = batch.map((run) => {
      const previous = latest.has(run.id) ? latest.get(run.id) : this.written.get(run.id);
      latest.set(run.id, isFinal(run.status) ? undefined : run);
      return serializeRunLine(run, previous);
    });
    return { lines, latest };
  }

  private async activeFile(segment: string): Promise<LineFile> {
    const path = join(this.dir, segment);
    if (this.active?.path === path) return this.active;
    await this.active?.close();
    this.active = new LineFile(path, { sync: true });
    return this.active;
  }

  /** Rewrites segments oldest first, so a crash midway never brings back an older state of a run. */
  private async compact(): Promise<void> {
    // Rewritten segments hold whole records of the index's runs, which may be newer than `written`.
    this.written.clear();
    const runsBySegment = new Map<string, Run[]>();
    for (const [id, segment] of this.segmentOf) {
      const run = this.index.get(id);
      if (!run) continue;
      const list = runsBySegment.get(segment) ?? [];
      list.push(run);
      runsBySegment.set(segment, list);
    }
    for (const name of [...this.segments.keys()].sort()) {
      const stats = this.stats(name);
      if (stats.lines === stats.live) continue;
      const runs = runsBySegment.get(name) ?? [];
      await this.rewriteSegment(name, runs);
      if (runs.length === 0) this.segments.delete(name);
      else stats.lines = runs.length;
    }
  }

  private async rewriteSegment(name: string, runs: readonly Run[]): Promise<void> {
    const path = join(this.dir, name);
    const rewrite = async (): Promise<void> => {
      if (runs.length === 0) await removeFile(path);
      else await writeFileAtomic(path, runs.map((run) => JSON.stringify(run)).join('\n') + '\n');
    };
    if (this.active?.path === path) await this.active.exclusive(rewrite);
    else await rewrite();
    this.log.debug({ segment: name, runs: runs.length }, 'run segment compacted');
  }

  /** Records which segment contains the latest line of a run; null when the run is gone. */
  private moveLatest(id: string, segment: string | null): void {
    const previous = this.segmentOf.get(id);
    if (previous === segment) return;
    if (previous !== undefined) this.stats(previous).live -= 1;
    if (segment === null) {
      this.segmentOf.delete(id);
      return;
    }
    this.segmentOf.set(id, segment);
    this.stats(segment).live += 1;
  }

  private stats(segment: string): SegmentStats {
    let stats = this.segments.get(segment);
    if (!stats) {
      stats = { lines: 0, live: 0 };
      this.segments.set(segment, stats);
    }
    return stats;
  }
}
