/**
 * The line format of run output files. A batch that came from an agent event
 * is stored as one line that carries the event's attempt and sequence
 * number: `{"a":1,"q":7,"lines":[...]}` in a log file, `{"a":1,"q":7,"r":[...]}`
 * in a records file. One line per event makes the event atomic on disk: a
 * crash leaves it whole or leaves a cut last line, which readers skip. At
 * start the hub reads the highest stored sequence number back, so it never
 * stores an event twice when the agent resends it.
 *
 * Lines the hub writes itself (system log lines) stay one `{"t","s","m"}`
 * object per line.
 */
import type { Json, StoredLogLine } from '../model.js';

/** The agent event a batch of output came from. */
export interface OutputMark {
  attempt: number;
  seq: number;
}

export type OutputKind = 'logs' | 'records';

/** Key under which each kind keeps its items in an event line. */
const ITEMS_KEY: Record<OutputKind, 'lines' | 'r'> = { logs: 'lines', records: 'r' };

/** The content of one stored line, once parsed. */
export interface ParsedOutputLine {
  mark: OutputMark | null;
  items: unknown[];
}

/** Serializes one batch: an event line when marked, else one line per item. */
export function serializeOutput(kind: OutputKind, items: readonly unknown[], mark: OutputMark | undefined): string[] {
  if (mark === undefined) return items.map((item) => JSON.stringify(item));
  return [JSON.stringify({ a: mark.attempt, q: mark.seq, [ITEMS_KEY[kind]]: items })];
}

/**
 * Splits a parsed line into its mark and items. Only an object with exactly
 * the keys `a`, `q` and the kind's items key counts as an event line, so a
 * record a task emitted is never mistaken for one (the hub always wraps those).
 */
export function parseOutputValue(kind: OutputKind, value: unknown): ParsedOutputLine {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const fields = value as Record<string, unknown>;
    const itemsKey = ITEMS_KEY[kind];
    const keys = Object.keys(fields);
    const items = fields[itemsKey];
    if (keys.length === 3 && Array.isArray(items) && isCount(fields.a) && isCount(fields.q)) {
      return { mark: { attempt: fields.a, seq: fields.q }, items };
    }
  }
  return { mark: null, items: [value] };
}

export function isLogLine(value: unknown): value is StoredLogLine {
  if (typeof value !== 'object' || value === null) return false;
  const line = value as Record<string, unknown>;
  return typeof line.t === 'number' && typeof line.s === 'string' && typeof line.m === 'string';
}

export function isRecord(value: unknown): value is Json {
  return value !== undefined;
}

/** What the output files of one run hold, for reconciling its record after a crash. */
export interface OutputScan {
  /** Highest sequence number stored for the attempt that was asked about; 0 when none. */
  lastSeq: number;
  /** Lines that came from the agent, every attempt counted. */
  logLines: number;
  /** UTF-8 bytes of those lines' text. */
  logBytes: number;
  recordCount: number;
  /** Every line in the log, the hub's system lines included. */
  totalLogLines: number;
}

/** Adds one parsed line to a scan. */
export function addToScan(scan: OutputScan, kind: OutputKind, line: ParsedOutputLine, attempt: number): void {
  if (kind === 'logs') scan.totalLogLines += line.items.filter(isLogLine).length;
  if (line.mark === null) return;
  if (line.mark.attempt === attempt) scan.lastSeq = Math.max(scan.lastSeq, line.mark.seq);
  if (kind === 'records') {
    scan.recordCount += line.items.length;
    return;
  }
  for (const item of line.items) {
    if (!isLogLine(item)) continue;
    scan.logLines += 1;
    scan.logBytes += Buffer.byteLength(item.m);
  }
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
