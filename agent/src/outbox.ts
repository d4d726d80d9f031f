/**
 * Keeps every run event until the hub acknowledges it.
 *
 * Each run's events are numbered 1, 2, 3... Consecutive log lines and
 * consecutive records of a run are merged into one event, and events are sent
 * in batches below LIMITS.maxBatchBytes, one batch in flight at a time. An
 * acknowledged event is dropped. An unacknowledged one is kept and sent again
 * after the next `hello`, or after a backoff when the hub did not respond.
 *
 * Memory is bounded without dropping anything: past `maxBufferedBytes` the
 * outbox reports pressure and the runs stop reading their children's output
 * until it is relieved.
 */
import { EventEmitter } from 'node:events';
import type { Logger } from './logger.js';
import { RateLimitedLog } from './rate-limited-log.js';
import {
  ACK_ALL,
  LIMITS,
  eventBatchAckSchema,
  parseMessage,
  type EventBatch,
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
  send: (batch: EventBatch) => Promise<unknown>;
  /** Called with the runs an ack requests the agent to stop. */
  onCancel: (runs: RunRef[]) => void;
  log: Logger;
  /** Delay that lets lines gather into one batch. */
  flushDelayMs?: number;
  maxBatchBytes?: number;
  /** Buffered bytes above which the outbox reports pressure. */
  maxBufferedBytes?: number;
  /** First retry delay after a failed send; it doubles up to `maxRetryDelayMs`. */
  retryDelayMs?: number;
  maxRetryDelayMs?: number;
}

interface QueuedEvent {
  event: RunEvent;
  bytes: number;
}

/** The log or records event of a run that still takes more items. */
interface OpenEvent {
  type: 'log' | 'records';
  at: number;
  items: (LogLine | Json)[];
  bytes: number;
}

interface RunQueue extends RunKey {
  nextSeq: number;
  /** Sealed events in seq order; the first `sent` of them are in flight. */
  events: QueuedEvent[];
  sent: number;
  open: OpenEvent | null;
  finished: boolean;
}

/** `{"events":[` and `]}` around the comma-separated events. */
const BATCH_ENVELOPE_BYTES = 13;
/** Room for runId, attempt, seq and the other fields of an open event. */
const EVENT_ENVELOPE_BYTES = 512;
const MAX_EVENTS_PER_BATCH = 10_000;
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
  private readonly maxBufferedBytes: number;
  private readonly retryDelayMs: number;
  private readonly maxRetryDelayMs: number;
  private buffered = 0;
  private pressured = false;
  private online = false;
  private inFlight = false;
  /** Bumped on every pause, so a late ack of an older batch changes no state but the acknowledged events. */
  private generation = 0;
  private nextRetryDelayMs: number;
  private flushTimer: NodeJS.Timeout | null = null;
  private retryTimer: NodeJS.Timeout | null = null;

  constructor(private readonly options: OutboxOptions) {
    this.warnings = new RateLimitedLog(options.log);
    this.flushDelayMs = options.flushDelayMs ?? 50;
    this.maxBatchBytes = options.maxBatchBytes ?? LIMITS.maxBatchBytes;
    this.maxBufferedBytes = options.maxBufferedBytes ?? 64 * 1024 * 1024;
    this.retryDelayMs = options.retryDelayMs ?? 1_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 30_000;
    this.nextRetryDelayMs = this.retryDelayMs;
    this.emitter.setMaxListeners(0);
  }

  /** Bytes of events held in memory, sent or not. */
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

  /** Runs that still have events the hub has not acknowledged. */
  pendingRuns(): RunKey[] {
    const keys: RunKey[] = [];
    for (const run of this.runs.values()) {
      if (run.events.length > 0 || run.open !== null) keys.push({ runId: run.runId, attempt: run.attempt });
    }
    return keys;
  }

  /** Queues one event of a run; `started` must come first and `finished` last. */
  push(key: RunKey, body: RunEventBody): void {
    const run = this.runFor(key);
    if (run === null) return;
    this.seal(run);
    this.enqueue(run, { ...body, runId: run.runId, attempt: run.attempt, seq: run.nextSeq++, at: Date.now() } as RunEvent);
    if (body.type === 'finished') run.finished = true;
    this.scheduleFlush();
  }

  pushLogLine(key: RunKey, line: LogLine): void {
    this.appendItem(key, 'log', line);
  }

  pushRecord(key: RunKey, record: Json): void {
    this.appendItem(key, 'records', record);
  }

  /**
   * Forgets a run's events, because the hub replaced its attempt with a newer
   * one and would ignore them.
   */
  discardRun(runId: string): void {
    const run = this.runs.get(runId);
    if (run === undefined) return;
    for (const queued of run.events) this.buffered -= queued.bytes;
    this.buffered -= run.open?.bytes ?? 0;
    this.runs.delete(runId);
    this.checkRelieved();
  }

  /** Stops sending, for example on disconnect; events in flight count as unsent. */
  pause(): void {
    this.online = false;
    this.generation += 1;
    this.inFlight = false;
    this.clearRetry();
    for (const run of this.runs.values()) run.sent = 0;
  }

  /** Drops what the hub reports as applied, then sends the rest. Called after each `hello`. */
  resume(acked: Record<string, number>): void {
    this.applyAcked(acked);
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
    this.clearRetry();
    this.online = false;
  }

  /**
   * Returns the queue of a run attempt, or null when its events are no longer
   * wanted: the hub abandoned the attempt or replaced it with a newer one.
   */
  private runFor(key: RunKey): RunQueue | null {
    if (this.isAbandoned(key)) return null;
    let run = this.runs.get(key.runId);
    if (run !== undefined && run.attempt > key.attempt) return null;
    if (run !== undefined && run.attempt < key.attempt) {
      this.discardRun(key.runId);
      run = undefined;
    }
    if (run === undefined) {
      run = { ...key, nextSeq: 1, events: [], sent: 0, open: null, finished: false };
      this.runs.set(key.runId, run);
    }
    return run;
  }

  private appendItem(key: RunKey, type: OpenEvent['type'], item: LogLine | Json): void {
    const run = this.runFor(key);
    if (run === null) return;
    const itemBytes = Buffer.byteLength(JSON.stringify(item)) + 1;
    if (run.open !== null && (run.open.type !== type || run.open.bytes + itemBytes > this.maxEventBytes())) {
      this.seal(run);
      this.pump();
    }
    if (run.open === null) {
      run.open = { type, at: Date.now(), items: [], bytes: EVENT_ENVELOPE_BYTES };
      this.addBuffered(EVENT_ENVELOPE_BYTES);
    }
    run.open.items.push(item);
    run.open.bytes += itemBytes;
    this.addBuffered(itemBytes);
    this.scheduleFlush();
  }

  private maxEventBytes(): number {
    return this.maxBatchBytes - BATCH_ENVELOPE_BYTES - EVENT_ENVELOPE_BYTES;
  }

  /** Turns the run's open log or records event into a numbered one. */
  private seal(run: RunQueue): void {
    const open = run.open;
    if (open === null) return;
    run.open = null;
    this.buffered -= open.bytes;
    const base = { runId: run.runId, attempt: run.attempt, seq: run.nextSeq++, at: open.at };
    const event: RunEvent =
      open.type === 'log'
        ? { ...base, type: 'log', lines: open.items as LogLine[] }
        : { ...base, type: 'records', records: open.items as Json[] };
    this.enqueue(run, event);
  }

  private sealAll(): void {
    for (const run of this.runs.values()) this.seal(run);
  }

  private enqueue(run: RunQueue, event: RunEvent): void {
    const bytes = Buffer.byteLength(JSON.stringify(event));
    if (bytes + BATCH_ENVELOPE_BYTES > this.maxBatchBytes) {
      // Only a bug upstream of the outbox can get here: every item is capped far below the batch limit.
      this.options.log.error({ runId: run.runId, seq: event.seq, type: event.type, bytes }, 'run event larger than a batch, dropped');
      return;
    }
    run.events.push({ event, bytes });
    this.addBuffered(bytes);
  }

  private addBuffered(bytes: number): void {
    this.buffered += bytes;
    if (!this.pressured && this.buffered > this.maxBufferedBytes) {
      this.pressured = true;
      // TODO: spill sealed events to the data directory instead of pausing the runs' output.
      this.options.log.warn({ bufferedBytes: this.buffered }, 'outbox full, pausing run output until the hub catches up');
    }
  }

  private checkRelieved(): void {
    if (this.pressured && this.buffered <= this.maxBufferedBytes / 2) {
      this.pressured = false;
      this.options.log.info({ bufferedBytes: this.buffered }, 'outbox relieved, resuming run output');
      this.emitter.emit('relieved');
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer !== null) return;
    this.flushTimer = setTimeout(() => {
      this.flushTimer = null;
      this.sealAll();
      this.pump();
    }, this.flushDelayMs);
  }

  /** Sends the next batch when online and nothing is in flight. */
  private pump(): void {
    if (!this.online || this.inFlight || this.retryTimer !== null) return;
    const batch = this.nextBatch();
    if (batch.length === 0) return;

    this.inFlight = true;
    const generation = this.generation;
    this.options.send({ events: batch }).then(
      (ack) => this.handleAck(ack, generation),
      (error: unknown) => this.handleSendFailure(error, generation),
    );
  }

  /** Takes unsent events round-robin across runs, so one chatty run cannot starve the others. */
  private nextBatch(): RunEvent[] {
    const batch: RunEvent[] = [];
    let bytes = BATCH_ENVELOPE_BYTES;
    let progressed = true;
    while (progressed && batch.length < MAX_EVENTS_PER_BATCH) {
      progressed = false;
      for (const run of this.runs.values()) {
        const next = run.events[run.sent];
        if (next === undefined) continue;
        const added = next.bytes + (batch.length > 0 ? 1 : 0);
        if (bytes + added > this.maxBatchBytes || batch.length >= MAX_EVENTS_PER_BATCH) return batch;
        batch.push(next.event);
        bytes += added;
        run.sent += 1;
        progressed = true;
      }
    }
    return batch;
  }

  private handleAck(raw: unknown, generation: number): void {
    const parsed = parseMessage(eventBatchAckSchema, raw);
    if (!parsed.ok) {
      this.warnings.warn('invalid_events_ack', { reason: parsed.reason }, 'invalid events ack from the hub, ignored');
      this.handleSendFailure(new Error('invalid ack'), generation);
      return;
    }
    this.applyAcked(parsed.value.acked);
    if (parsed.value.cancel.length > 0) this.options.onCancel(parsed.value.cancel);
    if (generation !== this.generation) return;

    this.inFlight = false;
    const unacked = [...this.runs.values()].filter((run) => run.sent > 0);
    if (unacked.length > 0) {
      this.warnings.warn('partial_events_ack', { runIds: unacked.map((run) => run.runId) }, 'hub acknowledged only part of a batch, retrying later');
      this.scheduleRetry();
      return;
    }
    this.nextRetryDelayMs = this.retryDelayMs;
    this.pump();
  }

  private handleSendFailure(error: unknown, generation: number): void {
    if (generation !== this.generation) return;
    this.inFlight = false;
    for (const run of this.runs.values()) run.sent = 0;
    this.options.log.debug({ err: error }, 'events batch not acknowledged, retrying later');
    this.scheduleRetry();
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

  private applyAcked(acked: Record<string, number>): void {
    for (const [runId, seq] of Object.entries(acked)) {
      const run = this.runs.get(runId);
      if (run === undefined) continue;
      if (seq >= ACK_ALL) {
        this.abandon(run);
        continue;
      }
      let dropped = 0;
      while (dropped < run.events.length && (run.events[dropped]?.event.seq ?? Infinity) <= seq) {
        this.buffered -= run.events[dropped]?.bytes ?? 0;
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
