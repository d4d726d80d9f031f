/**
 * Size limits on what agents report, enforced by the hub on receipt. The
 * agent applies the same limits before sending, so an honest agent never
 * meets them. They bound what a broken or hostile agent can make the hub
 * store. Each limit trims or defers data instead of rejecting the batch, so
 * the agent's acknowledgement still advances and nothing is resent forever.
 */
import { LIMITS, storedEventBytes, storedLineBytes, type LogLine, type RunEvent } from 'farmboy-agent/protocol';

/** Records kept per run; more are dropped with a note in the run's log. */
export const MAX_RUN_RECORDS = 1_000_000;

/**
 * Room above the agent's own per-attempt output limit, for the marker line
 * it adds when it cuts output and for stored bytes the hub counted that the
 * agent estimated.
 */
const RUN_LOG_SLACK_BYTES = 64 * 1024;

/** Room above LIMITS.maxLineBytes for the marker the agent appends to a line it cut. */
const LINE_SLACK_BYTES = 1024;
const MAX_LINE_BYTES = LIMITS.maxLineBytes + LINE_SLACK_BYTES;

/**
 * Batch budget: twice what the agent aims for, because the agent estimates
 * a batch's size before JSON escaping. Past it the rest of the batch waits.
 */
export const MAX_BATCH_BYTES = 2 * LIMITS.maxBatchBytes;

/** Runs whose stored output the hub counts, and run attempts that reached the per-run limit, remembered at most this many at once each. */
const MAX_CAPPED_RUNS = 10_000;

const LINE_CUT_MARKER = ' [line cut by the hub: over the line size limit]';

/** Figures the hub already stores of a run, for the per-run totals. */
export interface RunTotals {
  /** Bytes of the lines' text over all attempts so far. */
  logBytes: number;
  /** Lines from the agent over all attempts so far. */
  logLines: number;
  recordCount: number;
  attempt: number;
  /** Highest sequence number applied for the current attempt. */
  lastSeq: number;
}

/**
 * What the hub remembers of runs' output between batches: the bytes each
 * run's agent events take in its log file, and the run attempts whose output
 * reached the per-run limit, whose later lines are dropped without another
 * marker. Bounded: the oldest entry goes first.
 */
export class CappedRuns {
  private readonly keys = new Set<string>();
  private readonly stored = new Map<string, number>();

  has(runId: string, attempt: number): boolean {
    return this.keys.has(`${runId}#${attempt}`);
  }

  add(runId: string, attempt: number): void {
    this.keys.add(`${runId}#${attempt}`);
    if (this.keys.size > MAX_CAPPED_RUNS) this.keys.delete(this.keys.values().next().value as string);
  }

  /**
   * Returns the bytes the run's agent events take in its log file. A run this
   * hub has not counted yet (after a restart) is estimated from its record,
   * as if each line had a 13-digit time and a message without escapes.
   * NOTE: that estimate leaves out the event wrappers and escapes (up to 6
   * bytes per character) of the earlier lines. An agent that ignores its own
   * cap can store that much more than the limit.
   */
  storedBytes(runId: string, totals: RunTotals): number {
    return this.stored.get(runId) ?? totals.logBytes + totals.logLines * LOG_LINE_ESTIMATE_BYTES;
  }

  setStoredBytes(runId: string, bytes: number): void {
    this.stored.set(runId, bytes);
    if (this.stored.size > MAX_CAPPED_RUNS) this.stored.delete(this.stored.keys().next().value as string);
  }
}

/** storedLineBytes of a line with a 13-digit time and an unescaped message, less the message itself. */
const LOG_LINE_ESTIMATE_BYTES = storedLineBytes({ t: 1_000_000_000_000, s: 'stdout', m: '' });

export interface LimitedBatch {
  /** Events to apply, trimmed to the limits. */
  accepted: RunEvent[];
  /** Events left for the agent to send again, because the batch was over its size limit. */
  deferred: RunEvent[];
  /** Reasons for the hub log, one per kind of trim. */
  trims: Set<string>;
  /** Bytes of log lines and records accepted, for the per-agent rate limit. */
  outputBytes: number;
}

/** A run's figures as the batch would leave them. */
interface Projected extends RunTotals {
  /** Bytes of the run's agent events in its log file. */
  storedBytes: number;
}

/**
 * Applies the limits to one batch in order. Events fit into
 * MAX_BATCH_BYTES; the first event always does, so every batch makes
 * progress. `totals` returns the hub's figures of a run, or undefined for a
 * run it does not hold (such events pass through and are acknowledged as stale).
 * Only the event the run manager applies next (its attempt, `lastSeq + 1`)
 * counts towards the per-run limit: duplicates and gaps are never stored.
 */
export function limitBatch(events: readonly RunEvent[], totals: (runId: string) => RunTotals | undefined, capped: CappedRuns): LimitedBatch {
  const result: LimitedBatch = { accepted: [], deferred: [], trims: new Set(), outputBytes: 0 };
  const projected = new Map<string, Projected>();
  let batchBytes = 0;
  for (const [index, event] of events.entries()) {
    // Each log line is measured once here; the batch size and the per-run limit both use it.
    const costs = event.type === 'log' ? event.lines.map(storedLineBytes) : null;
    const size = eventBytes(event, costs);
    if (index > 0 && batchBytes + size > MAX_BATCH_BYTES) {
      result.deferred = events.slice(index);
      result.trims.add('batch over the size limit: the rest is left for the agent to resend');
      break;
    }
    batchBytes += size;
    const current = projected.get(event.runId) ?? projectedOf(event.runId, totals, capped);
    if (current === undefined || event.attempt !== current.attempt || event.seq !== current.lastSeq + 1) {
      result.accepted.push(event);
      continue;
    }
    const { event: limited, totals: next, bytes } = limitEvent(event, costs, current, result.trims, capped);
    projected.set(event.runId, { ...next, lastSeq: event.seq });
    result.accepted.push(limited);
    result.outputBytes += bytes;
  }
  for (const [runId, run] of projected) capped.setStoredBytes(runId, run.storedBytes);
  return result;
}

/**
 * Returns the UTF-8 size of `JSON.stringify(event)`. A log event is measured
 * from its lines' sizes, because serializing a flood's events only to measure
 * them was the largest part of this function's cost.
 */
function eventBytes(event: RunEvent, lineCosts: readonly number[] | null): number {
  if (event.type !== 'log' || lineCosts === null) return Buffer.byteLength(JSON.stringify(event));
  const envelope = Buffer.byteLength(JSON.stringify({ ...event, lines: [] }));
  // storedLineBytes counts a comma after each line, and the last line has none.
  return envelope + lineCosts.reduce((sum, cost) => sum + cost, 0) - 1;
}

function projectedOf(runId: string, totals: (runId: string) => RunTotals | undefined, capped: CappedRuns): Projected | undefined {
  const run = totals(runId);
  return run === undefined ? undefined : { ...run, storedBytes: capped.storedBytes(runId, run) };
}

/** `lineCosts` contains the storedLineBytes of each line of a log event. */
function limitEvent(
  event: RunEvent,
  lineCosts: readonly number[] | null,
  totals: Projected,
  trims: Set<string>,
  capped: CappedRuns,
): { event: RunEvent; totals: Projected; bytes: number } {
  if (event.type === 'log' && lineCosts !== null) {
    if (capped.has(event.runId, event.attempt)) {
      trims.add('output over the per-run limit dropped');
      return { event: { ...event, lines: [] }, totals, bytes: 0 };
    }
    // The agent cuts each attempt's output at LIMITS.maxRunLogBytes, and the hub counts a run's output over all its attempts.
    const limit = LIMITS.maxRunLogBytes * Math.max(1, totals.attempt) + RUN_LOG_SLACK_BYTES;
    const wrapper = storedEventBytes(event.attempt, event.seq);
    const { lines, bytes, stored, reached } = limitLines(event.lines, lineCosts, totals.storedBytes + wrapper, limit, trims);
    if (reached) capped.add(event.runId, event.attempt);
    const next = { ...totals, logBytes: totals.logBytes + bytes, logLines: totals.logLines + lines.length, storedBytes: totals.storedBytes + wrapper + stored };
    return { event: { ...event, lines }, totals: next, bytes };
  }
  if (event.type === 'records') return limitRecords(event, totals, trims);
  return { event, totals, bytes: 0 };
}

function limitRecords(event: RunEvent & { type: 'records' }, totals: Projected, trims: Set<string>): { event: RunEvent; totals: Projected; bytes: number } {
  const kept = event.records.filter((record) => Buffer.byteLength(JSON.stringify(record)) <= LIMITS.maxRecordBytes);
  if (kept.length < event.records.length) trims.add('record over the size limit dropped');
  const room = Math.max(0, MAX_RUN_RECORDS - totals.recordCount);
  if (kept.length > room) trims.add('records over the per-run limit dropped');
  const records = kept.slice(0, room);
  const bytes = records.reduce<number>((sum, record) => sum + Buffer.byteLength(JSON.stringify(record)), 0);
  if (records.length > 0) return { event: { ...event, records }, totals: { ...totals, recordCount: totals.recordCount + records.length }, bytes };
  // The event keeps its sequence number, so it becomes a log event that states what was dropped.
  const note = `${event.records.length} record(s) dropped by the hub: over the record size limit or the per-run limit`;
  return { event: { runId: event.runId, attempt: event.attempt, seq: event.seq, at: event.at, type: 'log', lines: [{ t: event.at, s: 'system', m: note }] }, totals, bytes: 0 };
}

/**
 * Cuts long lines, and stops at the per-run limit with one marker line.
 * `costs` contains each line's storedLineBytes as received. `storedBytes` is
 * what the run's agent events take in its log file before these lines,
 * their event's wrapper included. Returns the lines' text bytes (`bytes`)
 * and what they add to the file (`stored`).
 */
function limitLines(
  lines: readonly LogLine[],
  costs: readonly number[],
  storedBytes: number,
  limit: number,
  trims: Set<string>,
): { lines: LogLine[]; bytes: number; stored: number; reached: boolean } {
  const kept: LogLine[] = [];
  let bytes = 0;
  let stored = 0;
  for (let index = 0; index < lines.length; index += 1) {
    const line = lines[index] as LogLine;
    let message = line.m;
    let messageBytes = Buffer.byteLength(message);
    let cost = costs[index] as number;
    if (messageBytes > MAX_LINE_BYTES) {
      message = cutUtf8(message, MAX_LINE_BYTES - Buffer.byteLength(LINE_CUT_MARKER)) + LINE_CUT_MARKER;
      messageBytes = Buffer.byteLength(message);
      cost = storedLineBytes({ t: line.t, s: line.s, m: message });
      trims.add('line over the size limit cut');
    }
    if (storedBytes + stored + cost > limit) {
      const marker: LogLine = { t: line.t, s: 'system', m: `output over ${limit} bytes as stored; the hub keeps no more of this run's output` };
      kept.push(marker);
      trims.add('output over the per-run limit dropped');
      return { lines: kept, bytes: bytes + Buffer.byteLength(marker.m), stored: stored + storedLineBytes(marker), reached: true };
    }
    kept.push(message === line.m ? line : { ...line, m: message });
    bytes += messageBytes;
    stored += cost;
  }
  return { lines: kept, bytes, stored, reached: false };
}

/** Returns the longest prefix of `text` that fits in `maxBytes` of UTF-8 without splitting a character. */
function cutUtf8(text: string, maxBytes: number): string {
  const buffer = Buffer.from(text, 'utf8').subarray(0, Math.max(0, maxBytes));
  // A cut inside a multi-byte character decodes to U+FFFD at the end; drop it.
  return buffer.toString('utf8').replace(/\uFFFD$/, '');
}

/**
 * Per-agent limit on the volume of output, as a token bucket. An agent over
 * its rate gets its acknowledgement late, which slows its outbox down
 * without losing a line, since it sends one batch at a time. An agent that
 * runs far past the burst without waiting for acknowledgements gets its
 * batches deferred whole.
 */
export interface OutputRate {
  /** Sustained bytes of log lines and records per second and agent. */
  bytesPerSec: number;
  /** Bytes an agent may send at once above the sustained rate. */
  burstBytes: number;
  /** Maximum delay of one acknowledgement, below the agents' ack timeout (10 s). */
  maxAckDelayMs: number;
}

/**
 * 32 MiB/s is above what one agent's outbox delivers on a 2-core machine
 * (about 20 MiB/s of output in bench/, the `logs` benchmark), so an honest
 * agent flooding a log at full speed is not slowed; it still bounds a
 * hostile one.
 */
export const DEFAULT_OUTPUT_RATE: OutputRate = { bytesPerSec: 32 * 1024 * 1024, burstBytes: 64 * 1024 * 1024, maxAckDelayMs: 5_000 };

export class OutputBucket {
  private level: number;
  private updatedAt: number;

  constructor(
    private readonly rate: OutputRate,
    now: number,
  ) {
    this.level = rate.burstBytes;
    this.updatedAt = now;
  }

  /** True when the agent has run so far past its burst that a batch must wait whole. */
  isExhausted(now: number): boolean {
    this.refill(now);
    return this.level < -this.rate.burstBytes;
  }

  /** Takes `bytes` and returns how long to hold the acknowledgement back, in ms. */
  take(bytes: number, now: number): number {
    this.refill(now);
    this.level -= bytes;
    if (this.level >= 0) return 0;
    return Math.min(this.rate.maxAckDelayMs, Math.ceil((-this.level / this.rate.bytesPerSec) * 1000));
  }

  /** Returns how long the bucket takes to refill to its burst, in ms; 0 once it is full, as a new bucket starts. */
  msUntilFull(now: number): number {
    this.refill(now);
    if (this.level >= this.rate.burstBytes) return 0;
    return Math.ceil(((this.rate.burstBytes - this.level) / this.rate.bytesPerSec) * 1000);
  }

  private refill(now: number): void {
    const elapsed = Math.max(0, now - this.updatedAt) / 1000;
    this.level = Math.min(this.rate.burstBytes, this.level + elapsed * this.rate.bytesPerSec);
    this.updatedAt = now;
  }
}
