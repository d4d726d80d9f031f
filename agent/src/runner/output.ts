/**
 * The filter between a run's output and the outbox. It masks secret values,
 * cuts long lines with a visible marker, and stops the run's log at its byte
 * cap with one marker line. The cap counts each line as the hub stores it
 * (`protocol/stored-size.ts`), so a flood of short lines cannot make the hub
 * store many times the cap. A line whose end could be the start of a secret
 * waits until the next line shows whether it is one (see maskLineRun). So a
 * secret printed over several lines, each within HOLD_MS of the one before,
 * never leaves the agent in clear, whichever batches the lines go in.
 */
import {
  LOG_EVENT_OVERHEAD_BYTES,
  MIN_DANGLING_CHARS,
  SECRET_MASK,
  danglingLength,
  lineForms,
  maskLineRun,
  maskText,
  sortSecrets,
  storedLineBytes,
  type Json,
  type LogStream,
} from '../protocol/index.js';
import { truncateUtf8 } from './lines.js';
import type { RunEventBody, RunKey } from '../outbox.js';

/** The part of the outbox a run writes to. */
export interface RunEventSink {
  push(key: RunKey, body: RunEventBody): void;
  /**
   * Returns true when the line starts a new log event; a sink that does not batch lines returns nothing.
   * `storedBytes` is the line's storedLineBytes.
   */
  pushLogLine(key: RunKey, line: { t: number; s: LogStream; m: string }, storedBytes: number): boolean | void;
  pushRecord(key: RunKey, record: Json): void;
}

export interface OutputLimits {
  maxLineBytes: number;
  /** Bytes of the run's output as the hub stores it, event wrappers included. */
  maxRunLogBytes: number;
}

export { SECRET_MASK };
const MAX_PROGRESS_MESSAGE = 1000;
/** How long a line that could start a secret waits for the next line before it is sent with that start masked. */
export const HOLD_MS = 2_000;
/** Lines held at most; past it they are sent, with a dangling start of a secret masked. */
const MAX_HELD_LINES = 256;

interface HeldLine {
  stream: 'stdout' | 'stderr';
  text: string;
  fullBytes: number;
}

export class RunOutput {
  private readonly secrets: string[];
  /** The secrets as they appear across lines: without their line breaks. */
  private readonly forms: string[];
  /** Bytes the run's output takes in the hub's log file so far, the agent's own lines included. */
  private storedBytes = 0;
  private truncated = false;
  private held: HeldLine[] = [];
  /** Raw end of the lines sent so far, which the next lines may complete into a secret. */
  private context = '';
  private holdTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly key: RunKey,
    private readonly sink: RunEventSink,
    secretValues: string[],
    private readonly limits: OutputLimits,
  ) {
    this.secrets = sortSecrets(secretValues);
    this.forms = lineForms(this.secrets);
  }

  /** Whether lines were dropped because the run's log reached its cap. */
  get logTruncated(): boolean {
    return this.truncated;
  }

  /** Writes one output line; `fullBytes` is its length before the line splitter cut it, if it did. */
  line(stream: 'stdout' | 'stderr', text: string, fullBytes: number = Buffer.byteLength(text)): void {
    if (this.truncated) return;
    if (this.forms.length === 0) {
      this.send(stream, text, fullBytes);
      return;
    }
    this.held.push({ stream, text: this.mask(text), fullBytes });
    const heldText = this.context + this.held.map((line) => line.text).join('');
    if (this.held.length < MAX_HELD_LINES && danglingLength(heldText, this.forms, 1) > 0) {
      this.holdTimer ??= setTimeout(() => this.flush(), HOLD_MS);
      return;
    }
    this.release(Number.POSITIVE_INFINITY);
  }

  /**
   * Sends the held lines. Called before any other event of the run, so that
   * events keep their order, and at its end. A start of a secret of
   * MIN_DANGLING_CHARS or more at their end is masked, in case the rest follows.
   */
  flush(): void {
    if (this.held.length > 0) this.release(MIN_DANGLING_CHARS);
  }

  private release(minDangling: number): void {
    if (this.holdTimer !== null) clearTimeout(this.holdTimer);
    this.holdTimer = null;
    const lines = this.held;
    this.held = [];
    const run = maskLineRun(this.context, lines.map((line) => line.text), this.forms, minDangling);
    this.context = run.context;
    for (const [index, line] of lines.entries()) this.send(line.stream, run.lines[index] ?? line.text, line.fullBytes);
  }

  private send(stream: 'stdout' | 'stderr', text: string, fullBytes: number): void {
    if (this.truncated) return;
    let message = this.mask(text);
    if (fullBytes > this.limits.maxLineBytes || Buffer.byteLength(message) > this.limits.maxLineBytes) {
      message = `${truncateUtf8(message, this.limits.maxLineBytes)} … [line truncated, ${fullBytes} bytes]`;
    }
    const line = { t: Date.now(), s: stream, m: message };
    const cost = storedLineBytes(line);
    // Room for a new event's wrapper too, since the outbox only reports afterwards whether the line opened one.
    if (this.storedBytes + cost + LOG_EVENT_OVERHEAD_BYTES > this.limits.maxRunLogBytes) {
      this.truncated = true;
      this.system(`[log truncated: the run's output passed ${this.limits.maxRunLogBytes} bytes as stored, later lines are not kept]`);
      return;
    }
    this.pushLine(line, cost);
  }

  /** Hands a line to the outbox and counts what it costs the hub to store; `cost` is its storedLineBytes. */
  private pushLine(line: { t: number; s: LogStream; m: string }, cost = storedLineBytes(line)): void {
    const opened = this.sink.pushLogLine(this.key, line, cost);
    this.storedBytes += cost + (opened === false ? 0 : LOG_EVENT_OVERHEAD_BYTES);
  }

  /** Writes a message that may span several lines, such as a stack trace or a ctx.log call. */
  text(stream: 'stdout' | 'stderr', message: string): void {
    for (const line of message.split('\n')) this.line(stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Writes a line of the agent's own, which is kept even past the log cap. */
  system(text: string): void {
    this.flush();
    const message = truncateUtf8(this.mask(text), this.limits.maxLineBytes);
    this.pushLine({ t: Date.now(), s: 'system', m: message });
  }

  progress(percent: number, message: string | null): void {
    this.flush();
    const masked = message === null ? null : this.mask(message).slice(0, MAX_PROGRESS_MESSAGE);
    this.sink.push(this.key, { type: 'progress', percent: Math.min(100, Math.max(0, percent)), message: masked });
  }

  record(value: Json): void {
    this.flush();
    this.sink.pushRecord(this.key, this.maskJson(value));
  }

  mask(text: string): string {
    return maskText(text, this.secrets);
  }

  /** Masks secrets inside every string of a JSON value, keys included. */
  maskJson(value: Json): Json {
    if (this.secrets.length === 0) return value;
    if (typeof value === 'string') return this.mask(value);
    if (Array.isArray(value)) return value.map((item) => this.maskJson(item));
    if (value !== null && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([key, item]) => [this.mask(key), this.maskJson(item)]));
    }
    return value;
  }
}
