/**
 * The filter between a run's output and the outbox. It masks secret values,
 * cuts long lines with a visible marker, and stops the run's log at its byte
 * cap with one marker line.
 */
import type { Json, LogStream } from '../protocol/index.js';
import { truncateUtf8 } from './lines.js';
import type { RunEventBody, RunKey } from '../outbox.js';

/** The part of the outbox a run writes to. */
export interface RunEventSink {
  push(key: RunKey, body: RunEventBody): void;
  pushLogLine(key: RunKey, line: { t: number; s: LogStream; m: string }): void;
  pushRecord(key: RunKey, record: Json): void;
}

export interface OutputLimits {
  maxLineBytes: number;
  maxRunLogBytes: number;
}

export const SECRET_MASK = '***';
const MAX_PROGRESS_MESSAGE = 1000;

export class RunOutput {
  private readonly secrets: string[];
  private logBytes = 0;
  private truncated = false;

  constructor(
    private readonly key: RunKey,
    private readonly sink: RunEventSink,
    secretValues: string[],
    private readonly limits: OutputLimits,
  ) {
    // Sorted by length, longest first, so a secret that contains another is masked whole.
    this.secrets = [...new Set(secretValues.filter((value) => value !== ''))].sort((a, b) => b.length - a.length);
  }

  /** Whether lines were dropped because the run's log reached its cap. */
  get logTruncated(): boolean {
    return this.truncated;
  }

  /** Writes one output line; `fullBytes` is its length before the line splitter cut it, if it did. */
  line(stream: 'stdout' | 'stderr', text: string, fullBytes: number = Buffer.byteLength(text)): void {
    if (this.truncated) return;
    let message = this.mask(text);
    if (fullBytes > this.limits.maxLineBytes || Buffer.byteLength(message) > this.limits.maxLineBytes) {
      message = `${truncateUtf8(message, this.limits.maxLineBytes)} … [line truncated, ${fullBytes} bytes]`;
    }
    const bytes = Buffer.byteLength(message);
    if (this.logBytes + bytes > this.limits.maxRunLogBytes) {
      this.truncated = true;
      this.system(`[log truncated: the run's output passed ${this.limits.maxRunLogBytes} bytes, later lines are not kept]`);
      return;
    }
    this.logBytes += bytes;
    this.sink.pushLogLine(this.key, { t: Date.now(), s: stream, m: message });
  }

  /** Writes a message that may span several lines, such as a stack trace or a ctx.log call. */
  text(stream: 'stdout' | 'stderr', message: string): void {
    for (const line of message.split('\n')) this.line(stream, line.endsWith('\r') ? line.slice(0, -1) : line);
  }

  /** Writes a line of the agent's own, which is kept even past the log cap. */
  system(text: string): void {
    const message = truncateUtf8(this.mask(text), this.limits.maxLineBytes);
    this.sink.pushLogLine(this.key, { t: Date.now(), s: 'system', m: message });
  }

  progress(percent: number, message: string | null): void {
    const masked = message === null ? null : this.mask(message).slice(0, MAX_PROGRESS_MESSAGE);
    this.sink.push(this.key, { type: 'progress', percent: Math.min(100, Math.max(0, percent)), message: masked });
  }

  record(value: Json): void {
    this.sink.pushRecord(this.key, this.maskJson(value));
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of this.secrets) {
      if (masked.includes(secret)) masked = masked.split(secret).join(SECRET_MASK);
    }
    return masked;
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
