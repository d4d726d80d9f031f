/**
 * The outbox's use of its spool. Every sealed event is written to the data
 * directory as it is sent, so it survives a crash of the agent. Events
 * past the outbox's memory bound are kept only there, and read back when
 * their turn to be sent comes.
 *
 * When the spool cannot write (a full disk, a read-only directory), the runs
 * concerned carry on with their events in memory only: the error is logged
 * and written into each run's log, and nothing is dropped.
 */
import type { Logger } from './logger.js';
import type { Json, LogLine } from './protocol/index.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { Spool, SpoolRef, SpooledEvent } from './spool.js';

export interface QueuedEvent {
  seq: number;
  /** Size as JSON, for batches and the spool. */
  bytes: number;
  /** The event's UTF-8 JSON, or null while it is kept only in the spool. */
  json: Buffer | null;
  /** Location in the spool; null until written, and for events that were never spooled. */
  ref: SpoolRef | null;
  /** Set once acknowledged or discarded, so a spool write that ends later releases it at once. */
  done: boolean;
}

/**
 * Estimated heap bytes of one log line or record of an open event beyond its
 * JSON size: the object, its time as a boxed number and its array slot. A
 * heap snapshot of an agent under `yes` showed about 61 bytes of objects and
 * numbers per 1-byte line (Node 20, x64). A sealed event keeps only its JSON.
 */
export const ITEM_HEAP_BYTES = 64;

/** The log or records event of a run that still takes more items. */
export interface OpenEvent {
  type: 'log' | 'records';
  at: number;
  items: (LogLine | Json)[];
  bytes: number;
}

export interface RunQueue {
  runId: string;
  attempt: number;
  nextSeq: number;
  /** Sealed events in seq order; the first `sent` of them are in flight. */
  events: QueuedEvent[];
  sent: number;
  open: OpenEvent | null;
  finished: boolean;
  /** Set when the spool failed to write one of its events: the rest stay in memory only. */
  unspooled: boolean;
  /** For a run an earlier agent process left unfinished: the error its `finished` event will report. */
  interruptedError: string | null;
}

export interface SpillHooks {
  /** An event reached the spool and may be sent. */
  onWritten(): void;
  /** The spool failed for this run; its events are now kept in memory only. */
  onFailed(run: RunQueue, message: string): void;
}

/** Error reported for a run an earlier agent process left without a `finished` event. */
export const INTERRUPTED_ERROR = 'the agent restarted before this run ended; its last output may be missing';

export class OutboxSpill {
  private readonly warnings: RateLimitedLog;
  /** Bytes of events kept only in the spool. */
  spilledBytes = 0;

  constructor(
    readonly spool: Spool,
    private readonly dir: string,
    private readonly log: Logger,
    private readonly hooks: SpillHooks,
  ) {
    this.warnings = new RateLimitedLog(log);
  }

  /** Writes a newly sealed event to the spool, unless its run lost its spool. */
  accept(run: RunQueue, queued: QueuedEvent): void {
    if (run.unspooled || queued.json === null) return;
    this.spool.append([queued.json]).then(
      ([ref]) => {
        if (ref === undefined) return;
        if (queued.done) {
          this.spool.release(ref);
          return;
        }
        queued.ref = ref;
        this.hooks.onWritten();
      },
      (error: unknown) => this.handleFailure(run, error),
    );
  }

  /**
   * Returns whether an event may go to the hub. One still in memory may go
   * while its spool write is under way: waiting for the write and its
   * fdatasync cost every `started` report several milliseconds (bench/, the
   * `dispatch` benchmark), and a crash loses nothing more for it, because an
   * event neither stored here nor applied by the hub is lost either way,
   * and one the hub applied is acknowledged again after the restart.
   */
  isSendable(run: RunQueue, queued: QueuedEvent): boolean {
    return queued.json !== null || queued.ref !== null || run.unspooled;
  }

  /** Forgets an acknowledged or discarded event; returns the bytes it freed from memory. */
  release(queued: QueuedEvent): number {
    queued.done = true;
    if (queued.ref !== null) this.spool.release(queued.ref);
    if (queued.json !== null) return queued.bytes;
    this.spilledBytes -= queued.bytes;
    return 0;
  }

  /** Drops spooled events from memory, newest first, until `excess` bytes are freed; returns the bytes freed. */
  evict(runs: Iterable<RunQueue>, excess: number): number {
    let freed = 0;
    for (const run of runs) {
      for (let index = run.events.length - 1; index >= 0 && freed < excess; index -= 1) {
        const queued = run.events[index];
        if (queued === undefined || queued.json === null || queued.ref === null) continue;
        queued.json = null;
        freed += queued.bytes;
        this.spilledBytes += queued.bytes;
      }
      if (freed >= excess) break;
    }
    return freed;
  }

  /** Returns the JSON of a batch's events, reading those kept only in the spool. */
  async materialize(entries: QueuedEvent[]): Promise<Buffer[]> {
    try {
      return await Promise.all(
        entries.map(async (queued) => {
          if (queued.json !== null) return queued.json;
          if (queued.ref === null) throw new Error(`event ${queued.seq} is neither in memory nor in the spool`);
          return this.spool.read(queued.ref);
        }),
      );
    } catch (error: unknown) {
      this.warnings.warn('spool_read', { err: error, dir: this.dir }, 'cannot read events back from the outbox spool, retrying later');
      throw error;
    }
  }

  /**
   * Builds run queues from the events an earlier agent process left in the
   * spool and the runs whose processes it ended (`interrupted`, keyed by
   * `runId#attempt`). Only the newest attempt of a run is kept.
   */
  recover(events: SpooledEvent[], interrupted: ReadonlyMap<string, string>): RunQueue[] {
    const newest = new Map<string, number>();
    const note = (runId: string, attempt: number): void => {
      newest.set(runId, Math.max(newest.get(runId) ?? 0, attempt));
    };
    for (const key of interrupted.keys()) note(...splitKey(key));
    for (const spooled of events) note(spooled.runId, spooled.attempt);

    const runs = new Map<string, RunQueue>();
    for (const [runId, attempt] of newest) runs.set(runId, newRunQueue(runId, attempt));
    const seen = new Set<string>();
    for (const spooled of events) {
      const run = runs.get(spooled.runId);
      const key = `${spooled.runId}#${spooled.attempt}#${spooled.seq}`;
      if (run === undefined || run.attempt !== spooled.attempt || seen.has(key)) {
        this.spool.release(spooled.ref);
        continue;
      }
      seen.add(key);
      run.events.push({ seq: spooled.seq, bytes: spooled.ref.bytes, json: null, ref: spooled.ref, done: false });
      this.spilledBytes += spooled.ref.bytes;
      if (spooled.type === 'finished') run.finished = true;
    }
    for (const run of runs.values()) {
      run.events.sort((a, b) => a.seq - b.seq);
      run.nextSeq = (run.events.at(-1)?.seq ?? 0) + 1;
      if (!run.finished) run.interruptedError = interrupted.get(`${run.runId}#${run.attempt}`) ?? INTERRUPTED_ERROR;
    }
    return [...runs.values()];
  }

  private handleFailure(run: RunQueue, error: unknown): void {
    const code = error instanceof Error && 'code' in error ? String(error.code) : 'unknown';
    this.warnings.warn(`spool:${code}`, { err: error, dir: this.dir }, 'cannot write the outbox spool, keeping run events in memory only');
    if (run.unspooled) return;
    run.unspooled = true;
    const message =
      `the agent cannot write its outbox spool in ${this.dir} (${code}); ` +
      'this run keeps its events in memory only and loses them if the agent stops before the hub has them';
    this.hooks.onFailed(run, message);
  }
}

export function newRunQueue(runId: string, attempt: number): RunQueue {
  return { runId, attempt, nextSeq: 1, events: [], sent: 0, open: null, finished: false, unspooled: false, interruptedError: null };
}

function splitKey(key: string): [string, number] {
  const at = key.lastIndexOf('#');
  return [key.slice(0, at), Number(key.slice(at + 1))];
}
