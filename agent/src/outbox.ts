/**
 * Keeps every run event until the hub acknowledges it.
 *
 * Each run's events are numbered 1, 2, 3... Consecutive log lines and
 * consecutive records of a run are merged into one event, and events are sent
 * in batches below LIMITS.maxBatchBytes, up to `maxInFlight` batches awaiting
 * their ack at once, so the agent prepares the next batches while the hub
 * stores the first. The hub applies a run's events only in sequence, in the
 * order the batches arrive on the connection. An acknowledged event is
 * dropped. An unacknowledged one is kept and sent again after the next
 * `hello`, or after a backoff when the hub did not respond or acknowledged
 * only part of a batch.
 *
 * With a spool (`outbox-spill.ts`), every sealed event is written to the
 * data directory as it is sent, so events survive a crash of the agent.
 * Past `maxBufferedBytes` the newest ones are dropped from memory and read
 * back from the spool when their turn comes. Without one, events live in
 * memory only. Either way nothing is dropped: when memory (or the spool,
 * past `maxSpooledBytes`) is full, the outbox reports pressure and the runs
 * stop reading their children's output until it is relieved.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';
import { ITEM_HEAP_BYTES, OutboxSpill, newRunQueue, type OpenEvent, type QueuedEvent, type RunQueue } from './outbox-spill.js';
import { jsonBytes, logLineBytes } from './event-size.js';
import { RateLimitedLog } from './rate-limited-log.js';
import type { Spool, SpooledEvent } from './spool.js';
import {
  ACK_ALL,
  LIMITS,
  encodeEventBatch,
  eventBatchAckSchema,
  parseMessage,
  type EncodedEventBatch,
  type Json,
  type LogLine,
  type RunEvent,
  type RunRef,
} from './protocol/index.js';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** A run event before the outbox numbers and stamps it. */
export type RunEventBody = DistributiveOmit<Exclude<RunEvent, { type: 'log' | 'records' }>, 'runId' | 'attempt' | 'seq' | 'at'>;

export type RunKey = RunRef;

export interface OutboxOptions {
  /** Sends one batch; resolves with the hub's raw ack, rejects on timeout or disconnect. */
  send: (batch: EncodedEventBatch) => Promise<unknown>;
  /** Called with the runs an ack requests the agent to stop. */
  onCancel: (runs: RunRef[]) => void;
  log: Logger;
  /** Delay that lets lines gather into one batch. */
  flushDelayMs?: number;
  maxBatchBytes?: number;
  /** Batches sent whose ack has not arrived yet, at most; 1 waits for each ack before the next send. */
  maxInFlight?: number;
  /**
   * Bytes of events kept in memory. Without a spool the outbox reports
   * pressure past it; with one it moves the newest events out of memory.
   */
  maxBufferedBytes?: number;
  /** Journal in the data directory; without it, events live in memory only. */
  spool?: Spool;
  /** Bytes of unacknowledged events, in memory and spool together, above which the outbox reports pressure. */
  maxSpooledBytes?: number;
  /** First retry delay after a failed send; it doubles up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

/** `{"events":[` and `]}` around the comma-separated events. */
const BATCH_ENVELOPE_BYTES = 13;
/** Room for runId, attempt, seq and the other fields of an open event. */
const EVENT_ENVELOPE_BYTES = 512;
const MAX_EVENTS_PER_BATCH = 10_000;
/**
 * Batches in flight by default: enough for the agent to prepare and send
 * while the hub stores, with at most 1 MiB per connection waiting.
 * NOTE: chosen by judgment; other values were not measured against it.
 */
const DEFAULT_MAX_IN_FLIGHT = 4;

/** A batch sent and not acknowledged yet, with the highest seq it carries of each run. */
interface InFlightBatch {
  entries: QueuedEvent[];
  lastSeqs: Map<RunQueue, number>;
}
/** Run attempts remembered as abandoned by the hub; older entries are forgotten first. */
const MAX_ABANDONED = 10_000;

export class Outbox {
  private readonly runs = new Map<string, RunQueue>();
  /** `runId#attempt` of runs the hub acked with ACK_ALL: their later events are dropped at once. */
  private readonly abandoned = new Set<string>();
  private readonly emitter = new EventEmitter();
  private readonly warnings: RateLimitedLog;
  private readonly flushDelayMs: number;
  private readonly maxBatchBytes: number;
  private readonly maxInFlight: number;
  private readonly maxBufferedBytes: number;
  private readonly maxSpooledBytes: number;
  private readonly spill: OutboxSpill | null;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private buffered = 0;
  private pressured = false;
  private online = false;
  private inFlight: InFlightBatch[] = [];
  /** Settles once the last batch taken was handed to `send`, so batches leave in the order they were taken. */
  private sendOrder: Promise<void> = Promise.resolve();
  /**
   * Bumped whenever the batches in flight are given up (pause, failed send,
   * partial ack), so a late ack of one of them changes no state but the acknowledged events.
   */
  private generation = 0;
  private nextRetryDelayMs: number;
  private flushTimer: NodeJS.Timeout | null = null;
  private immediateFlush: NodeJS.Immediate | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: OutboxOptions) {
    this.warnings = new RateLimitedLog(options.log);
    this.flushDelayMs = options.flushDelayMs ?? 50;
    this.maxBatchBytes = options.maxBatchBytes ?? LIMITS.maxBatchBytes;
    this.maxInFlight = Math.max(1, options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT);
    this.maxBufferedBytes = options.maxBufferedBytes ?? (options.spool ? 16 : 64) * 1024 * 1024;
    this.maxSpooledBytes = options.maxSpooledBytes ?? 1024 * 1024 * 1024;
    this.spill = options.spool
      ? new OutboxSpill(options.spool, options.spool.dir, options.log, {
          onWritten: () => this.handleSpilled(),
          onFailed: (run, message) => {
            if (!run.finished) this.pushLogLine(run, { t: Date.now(), s: 'system', m: message });
          },
        })
      : null;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.nextRetryDelayMs = this.retryDelayMs;
    this.emitter.setMaxListeners(0);
  }

  /** Bytes of events held in memory, sent or not: their JSON size, plus ITEM_HEAP_BYTES per line or record of an open event. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** True from the moment the buffer passes its bound until it is relieved to half of it. */
  get isUnderPressure(): boolean {
    return this.pressured;
  }

  /** Calls `listener` once when the pressure ends; returns its cleanup. */
  onceRelieved(listener: () => void): () => void {
    this.emitter.once('relieved', listener);
    return () => this.emitter.off('relieved', listener);
  }

  /** Runs that still have events the hub has not acknowledged, or an end to report for an earlier agent process. */
  pendingRuns(): RunKey[] {
    const keys: RunKey[] = [];
    for (const run of this.runs.values()) {
      if (run.events.length > 0 || run.open !== null || run.interruptedError !== null) keys.push({ runId: run.runId, attempt: run.attempt });
    }
    return keys;
  }

  /**
   * Takes back what an earlier agent process left: the events in the spool,
   * and the runs whose processes it ended, keyed by `runId#attempt` with the
   * error to report. Each such run without a `finished` event gets one, with
   * the status `lost`, after the next `hello`. Call before `resume`.
   */
  recover(events: SpooledEvent[], interrupted: ReadonlyMap<string, string>): void {
    if (this.spill === null) throw new Error('an outbox without a spool has nothing to recover');
    for (const run of this.spill.recover(events, interrupted)) this.runs.set(run.runId, run);
    this.checkPressure();
  }

  /** Waits until the events already sealed are written to the spool. */
  async settle(): Promise<void> {
    await this.spill?.spool.settle();
  }

  /** Queues one event of a run; `started` must come first and `finished` last. */
  push(key: RunKey, body: RunEventBody): void {
    const run = this.runFor(key);
    if (run === null) return;
    this.seal(run);
    this.enqueue(run, { ...body, runId: run.runId, attempt: run.attempt, seq: run.nextSeq++, at: Date.now() } as RunEvent);
    if (body.type === 'finished') run.finished = true;
    this.flushSoon();
  }

  /**
   * Queues one log line; returns true when it starts a new log event, whose wrapper the hub stores too.
   * `storedBytes` is the line's `storedLineBytes` when the caller has it already, which saves measuring
   * the line a second time in a flood.
   */
  pushLogLine(key: RunKey, line: LogLine, storedBytes?: number): boolean {
    return this.appendItem(key, 'log', line, storedBytes);
  }

  pushRecord(key: RunKey, record: Json): void {
    void this.appendItem(key, 'records', record);
  }

  /**
   * Forgets a run's events, because the hub replaced its attempt with a newer
   * one and would ignore them.
   */
  discardRun(runId: string): void {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    for (const queued of run.events) this.buffered -= this.releaseEvent(queued);
    this.buffered -= run.open === null ? 0 : run.open.bytes + run.open.items.length * ITEM_HEAP_BYTES;
    this.runs.delete(runId);
    this.checkRelieved();
  }

  /** Stops sending, for example on disconnect; events in flight count as unsent. */
  pause(): void {
    this.online = false;
    this.rewind();
    this.clearRetry();
  }

  /** Drops what the hub reports as applied, then sends the rest. Called after each `hello`. */
  resume(acked: Record<string, number>): void {
    this.applyAcked(acked);
    this.finishInterrupted(acked);
    this.online = true;
    this.nextRetryDelayMs = this.retryDelayMs;
    this.pump();
  }

  /** Sends everything now and waits until the hub acknowledged it; false on timeout. */
  async flush(timeoutMs: number): Promise<boolean> {
    this.sealAll();
    this.pump();
    if (this.isEmpty()) return true;
    return new Promise<boolean>((resolve) => {
      const onEmpty = (): void => {
        clearTimeout(timer);
        resolve(true);
      };
      const timer = setTimeout(() => {
        this.emitter.off('empty', onEmpty);
        resolve(false);
      }, timeoutMs);
      this.emitter.once('empty', onEmpty);
    });
  }

  close(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    if (this.immediateFlush !== null) clearImmediate(this.immediateFlush);
    this.immediateFlush = null;
    this.clearRetry();
    this.online = false;
  }

  /**
   * Returns the queue of a run attempt, or null when its events are no longer
   * wanted: the hub abandoned the attempt or replaced it with a newer one.
   */
  private runFor(key: RunKey): RunQueue | null {
    let run = this.runs.get(key.runId);
    // The common case, once per output line: abandoning an attempt removes its queue, so a queue found is wanted.
    if (run !== undefined && run.attempt === key.attempt) return run;
    if (this.isAbandoned(key)) return null;
    if (run !== undefined && run.attempt > key.attempt) return null;
    if (run !== undefined && run.attempt < key.attempt) {
      this.discardRun(key.runId);
      run = undefined;
    }
    if (run === undefined) {
      run = newRunQueue(key.runId, key.attempt);
      this.runs.set(key.runId, run);
    }
    return run;
  }

  /** Adds an item to the run's open event; returns true when it had to open a new one. */
  private appendItem(key: RunKey, type: OpenEvent['type'], item: LogLine | Json, storedBytes?: number): boolean {
    const run = this.runFor(key);
    if (run === null) return false;
    // One more byte for the comma that separates it from the next item; storedLineBytes counts that comma already.
    const itemBytes = storedBytes ?? (type === 'log' ? logLineBytes(item as LogLine) : jsonBytes(item as Json)) + 1;
    if (run.open !== null && (run.open.type !== type || run.open.bytes + itemBytes > this.maxEventBytes())) {
      this.seal(run);
      this.pump();
    }
    const opened = run.open === null;
    if (run.open === null) {
      run.open = { type, at: Date.now(), items: [], bytes: EVENT_ENVELOPE_BYTES };
      this.addBuffered(EVENT_ENVELOPE_BYTES);
    }
    run.open.items.push(item);
    run.open.bytes += itemBytes;
    this.addBuffered(itemBytes + ITEM_HEAP_BYTES);
    this.scheduleFlush();
    return opened;
  }

  private maxEventBytes(): number {
    return this.maxBatchBytes - BATCH_ENVELOPE_BYTES - EVENT_ENVELOPE_BYTES;
  }

  /** Turns the run's open log or records event into a numbered one. */
  private seal(run: RunQueue): void {
    const open = run.open;
    if (open === null) return;
    run.open = null;
    this.buffered -= open.bytes + open.items.length * ITEM_HEAP_BYTES;
    const base = { runId: run.runId, attempt: run.attempt, seq: run.nextSeq++, at: open.at };
    const event =
      open.type === 'log'
        ? { ...base, type: 'log' as const, lines: open.items as LogLine[] }
        : { ...base, type: 'records' as const, records: open.items as Json[] };
    this.enqueue(run, event);
  }

  private sealAll(): void {
    for (const run of this.runs.values()) this.seal(run);
  }

  /** Queues a sealed event as its JSON, the one serialization it gets for the spool and the hub alike. */
  private enqueue(run: RunQueue, event: RunEvent): void {
    const json = Buffer.from(JSON.stringify(event));
    const bytes = json.length;
    if (bytes + BATCH_ENVELOPE_BYTES > this.maxBatchBytes) {
      // Only a bug upstream of the outbox can get here: every item is capped far below the batch limit.
      this.options.log.error({ runId: run.runId, seq: event.seq, type: event.type, bytes }, 'run event larger than a batch, dropped');
      return;
    }
    const queued: QueuedEvent = { seq: event.seq, bytes, json, ref: null, done: false };
    run.events.push(queued);
    this.addBuffered(bytes);
    this.spill?.accept(run, queued);
  }

  private addBuffered(bytes: number): void {
    this.buffered += bytes;
    this.checkPressure();
  }

  /**
   * Pressure starts past the memory bound (twice it with a spool, where only
   * events the spool has not written yet, or runs that lost the spool, keep
   * memory that high) or past the bound of memory and spool together.
   */
  private checkPressure(): void {
    if (this.pressured) return;
    const memoryLimit = this.spill === null ? this.maxBufferedBytes : 2 * this.maxBufferedBytes;
    const total = this.buffered + (this.spill?.spilledBytes ?? 0);
    if (this.buffered <= memoryLimit && total <= this.maxSpooledBytes) return;
    this.pressured = true;
    this.options.log.warn({ bufferedBytes: this.buffered, spooledBytes: total }, 'outbox full, pausing run output until the hub catches up');
  }

  private checkRelieved(): void {
    if (!this.pressured) return;
    const memoryTarget = this.spill === null ? this.maxBufferedBytes / 2 : this.maxBufferedBytes;
    const total = this.buffered + (this.spill?.spilledBytes ?? 0);
    if (this.buffered > memoryTarget || total > this.maxSpooledBytes / 2) return;
    this.pressured = false;
    this.options.log.info({ bufferedBytes: this.buffered, spooledBytes: total }, 'outbox relieved, resuming run output');
    this.emitter.emit('relieved');
  }

  /** Moves events out of memory once they are in the spool, then sends. */
  private handleSpilled(): void {
    if (this.spill !== null && this.buffered > this.maxBufferedBytes) {
      this.buffered -= this.spill.evict(this.runs.values(), this.buffered - this.maxBufferedBytes / 2);
      this.checkRelieved();
    }
    this.pump();
  }

  /** Forgets an acknowledged or discarded event; returns the bytes it kept in memory. */
  private releaseEvent(queued: QueuedEvent): number {
    if (this.spill !== null) return this.spill.release(queued);
    queued.done = true;
    return queued.bytes;
  }

  /**
   * Reports the end of each recovered run that has none, numbered after what
   * the hub has applied. A run the reply does not mention waits for a later
   * hello, because its number there is unknown.
   */
  private finishInterrupted(acked: Record<string, number>): void {
    for (const run of [...this.runs.values()]) {
      const error = run.interruptedError;
      if (error === null || acked[run.runId] === undefined) continue;
      run.interruptedError = null;
      if (run.finished) continue;
      run.nextSeq = Math.max(run.nextSeq, (acked[run.runId] ?? 0) + 1);
      this.push(run, { type: 'finished', status: 'lost', exitCode: null, signal: null, error, result: null, logTruncated: false });
    }
  }

  /**
   * Sends a state change (started, progress, finished) on the next turn of
   * the event loop when the window has room for a batch, so the hub learns
   * of it without waiting for the flush delay. Events pushed in the same
   * turn still share one batch. Otherwise it goes with the next flush.
   */
  private flushSoon(): void {
    if (!this.online || this.inFlight.length >= this.maxInFlight || this.retryTimer !== null) {
      this.scheduleFlush();
      return;
    }
    if (this.immediateFlush !== null) return;
    this.immediateFlush = setImmediate(() => {
      this.immediateFlush = null;
      this.sealAll();
      this.pump();
    });
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.sealAll();
      this.pump();
    }, this.flushDelayMs);
  }

  /** Sends batches while online, until `maxInFlight` of them await their ack. */
  private pump(): void {
    while (this.online && this.retryTimer === null && this.inFlight.length < this.maxInFlight) {
      const batch = this.nextBatch();
      if (batch.entries.length === 0) return;
      this.send(batch);
    }
  }

  /**
   * Sends one batch once its events kept only in the spool are read back.
   * Batches leave in the order they were taken, even when an earlier one
   * waits longer for its reads. The hub does not apply an event that arrives
   * before the one numbered just below it, so that batch would be retried.
   */
  private send(batch: InFlightBatch): void {
    this.inFlight.push(batch);
    const generation = this.generation;
    const loading = this.spill === null ? Promise.resolve(batch.entries.map((queued) => queued.json as Buffer)) : this.spill.materialize(batch.entries);
    // The ack promise is wrapped, so `sendOrder` settles when the batch is handed over, not when its ack arrives.
    const handedOver = Promise.all([this.sendOrder, loading]).then(([, events]) =>
      generation === this.generation ? { ack: this.options.send(encodeEventBatch(events)) } : null,
    );
    this.sendOrder = handedOver.then(
      () => undefined,
      () => undefined,
    );
    handedOver
      .then((sent) => sent?.ack.then((ack) => this.handleAck(ack, generation, batch)))
      .catch((error: unknown) => this.handleSendFailure(error, generation));
  }

  /** Takes unsent events round-robin across runs, so one chatty run cannot starve the others. */
  private nextBatch(): InFlightBatch {
    const batch: InFlightBatch = { entries: [], lastSeqs: new Map() };
    let bytes = BATCH_ENVELOPE_BYTES;
    let progressed = true;
    while (progressed && batch.entries.length < MAX_EVENTS_PER_BATCH) {
      progressed = false;
      for (const run of this.runs.values()) {
        const next = run.events[run.sent];
        if (next === undefined || (this.spill !== null && !this.spill.isSendable(run, next))) continue;
        const added = next.bytes + (batch.entries.length > 0 ? 1 : 0);
        if (bytes + added > this.maxBatchBytes || batch.entries.length >= MAX_EVENTS_PER_BATCH) return batch;
        batch.entries.push(next);
        batch.lastSeqs.set(run, next.seq);
        bytes += added;
        run.sent += 1;
        progressed = true;
      }
    }
    return batch;
  }

  private handleAck(raw: unknown, generation: number, batch: InFlightBatch): void {
    const parsed = parseMessage(eventBatchAckSchema, raw);
    if (!parsed.ok) {
      this.warnings.warn('invalid_events_ack', { reason: parsed.reason }, 'invalid events ack from the hub, ignored');
      this.handleSendFailure(new Error('invalid ack'), generation);
      return;
    }
    this.applyAcked(parsed.value.acked, batch);
    if (parsed.value.cancel.length > 0) this.options.onCancel(parsed.value.cancel);
    if (generation !== this.generation) return;

    this.inFlight = this.inFlight.filter((entry) => entry !== batch);
    const unacked = this.unackedRuns(batch);
    if (unacked.length > 0) {
      this.warnings.warn('partial_events_ack', { runIds: unacked }, 'hub acknowledged only part of a batch, retrying later');
      this.rewind();
      this.scheduleRetry();
      return;
    }
    this.nextRetryDelayMs = this.retryDelayMs;
    this.pump();
  }

  /** Returns the runs of which the batch carried an event the ack did not cover; runs forgotten meanwhile do not count. */
  private unackedRuns(batch: InFlightBatch): string[] {
    const runIds: string[] = [];
    for (const [run, lastSeq] of batch.lastSeqs) {
      if (this.runs.get(run.runId) !== run) continue;
      const oldest = run.events[0];
      if (oldest !== undefined && oldest.seq <= lastSeq) runIds.push(run.runId);
    }
    return runIds;
  }

  private handleSendFailure(error: unknown, generation: number): void {
    if (generation !== this.generation) return;
    this.rewind();
    this.options.log.debug({ err: error }, 'events batch not acknowledged, retrying later');
    this.scheduleRetry();
  }

  /**
   * Gives up the batches in flight: their events count as unsent and go again
   * from each run's oldest unacknowledged event, and the acks that still
   * arrive for them only drop the events the hub applied.
   */
  private rewind(): void {
    this.generation += 1;
    this.inFlight = [];
    for (const run of this.runs.values()) run.sent = 0;
  }

  private scheduleRetry(): void {
    for (const run of this.runs.values()) run.sent = 0;
    if (!this.online || this.retryTimer !== null) return;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null;
      this.pump();
    }, this.nextRetryDelayMs);
    this.nextRetryDelayMs = Math.min(this.nextRetryDelayMs * 2, this.maxRetryDelayMs);
  }

  private clearRetry(): void {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer);
    this.retryTimer = null;
  }

  private isAbandoned(key: RunKey): boolean {
    return this.abandoned.has(`${key.runId}#${key.attempt}`);
  }

  private abandon(run: RunQueue): void {
    this.abandoned.add(`${run.runId}#${run.attempt}`);
    if (this.abandoned.size > MAX_ABANDONED) {
      const oldest = this.abandoned.values().next().value;
      if (oldest !== undefined) this.abandoned.delete(oldest);
    }
    this.discardRun(run.runId);
  }

  /**
   * Drops what the hub acknowledged. An ack names runs, not attempts, so
   * the reply to a batch applies only to the attempts that batch carried.
   * The ack of attempt 1's last events then never drops attempt 2's first
   * ones, which may already be queued under the same run id.
   */
  private applyAcked(acked: Record<string, number>, batch?: InFlightBatch): void {
    for (const [runId, seq] of Object.entries(acked)) {
      const run = this.runs.get(runId);
      if (run === undefined) continue;
      if (batch !== undefined && !batch.lastSeqs.has(run)) continue;
      if (seq >= ACK_ALL) {
        this.abandon(run);
        continue;
      }
      let dropped = 0;
      while (dropped < run.events.length && (run.events[dropped]?.seq ?? Infinity) <= seq) {
        const queued = run.events[dropped];
        if (queued !== undefined) this.buffered -= this.releaseEvent(queued);
        dropped += 1;
      }
      if (dropped > 0) run.events.splice(0, dropped);
      run.sent = Math.max(0, run.sent - dropped);
      if (run.finished && run.events.length === 0 && run.open === null) this.runs.delete(runId);
    }
    this.checkRelieved();
    if (this.isEmpty()) this.emitter.emit('empty');
  }

  private isEmpty(): boolean {
    for (const run of this.runs.values()) {
      if (run.events.length > 0 || run.open !== null) return false;
    }
    return true;
  }
}
