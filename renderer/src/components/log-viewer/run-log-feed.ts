/**
 * The log and records of one run as a UI client keeps them: the stored tail
 * from `runs.watch`, then live `log` and `records` pushes. Every pushed item
 * has an index in its run's output, so an item the watch reply already contained,
 * or one pushed twice, is kept once however watches, views of the same run
 * and reconnects overlap. Plain TypeScript with no React, so a test can
 * drive it against a real hub.
 */
import type { Json, StoredLogLine } from '../../../../electron/hub/model.js';
import type { RunWatch } from '../../../../electron/hub/ui-contract.js';
import type { HubClient } from '../../api/client.js';

/** Records kept for display; the full list is downloadable from the HTTP API. */
export const MAX_RECORDS = 5_000;

export type FeedClient = Pick<HubClient, 'on' | 'request'>;

export interface Pushed<T> {
  from: number;
  items: readonly T[];
}

/** Returns the items of a push at or after index `next`, and the index after the push. */
export function unseen<T>(push: Pushed<T>, next: number): { items: readonly T[]; next: number } {
  const end = push.from + push.items.length;
  if (end <= next) return { items: [], next };
  // NOTE: a push that starts past `next` leaves a gap; the lines in it are only in the download.
  return { items: push.items.slice(Math.max(0, next - push.from)), next: end };
}

export class RunLogFeed {
  /** Grows in place; replaced by the stored tail each time a connection opens. */
  lines: StoredLogLine[] = [];
  records: Json[] = [];
  loading = true;
  private nextLine = 0;
  private nextRecord = 0;

  constructor(
    private readonly runId: string,
    /** Called after every change of lines, records or loading. */
    private readonly onChange: () => void,
  ) {}

  /** Watches the run on a connection that just opened; returns the cleanup to call when it drops. */
  connect(client: FeedClient): () => void {
    let cancelled = false;
    // Pushes that arrive before the watch reply wait for it, because its indices tell which of them it contains.
    let early: Array<{ log?: Pushed<StoredLogLine>; records?: Pushed<Json> }> | null = [];
    this.loading = true;
    const stopLog = client.on('log', (payload) => {
      if (payload.runId !== this.runId) return;
      const push = { from: payload.from, items: payload.lines };
      if (early) early.push({ log: push });
      else this.addLines(push);
    });
    const stopRecords = client.on('records', (payload) => {
      if (payload.runId !== this.runId) return;
      const push = { from: payload.from, items: payload.records };
      if (early) early.push({ records: push });
      else this.addRecords(push);
    });
    client.request('runs.watch', { id: this.runId }).then(
      (watch) => {
        if (cancelled) return;
        this.reset(watch);
        for (const push of early ?? []) {
          if (push.log) this.addLines(push.log);
          if (push.records) this.addRecords(push.records);
        }
        early = null;
      },
      () => {
        if (cancelled) return;
        this.loading = false;
        this.onChange();
      },
    );
    return () => {
      cancelled = true;
      stopLog();
      stopRecords();
      client.request('runs.unwatch', { id: this.runId }).catch(() => undefined);
    };
  }

  private reset(watch: RunWatch): void {
    this.lines = [...watch.lines];
    this.records = watch.records.slice(0, MAX_RECORDS);
    this.nextLine = watch.nextLine;
    this.nextRecord = watch.nextRecord;
    this.loading = false;
    this.onChange();
  }

  private addLines(push: Pushed<StoredLogLine>): void {
    const { items, next } = unseen(push, this.nextLine);
    this.nextLine = next;
    if (items.length === 0) return;
    this.lines.push(...items);
    this.onChange();
  }

  private addRecords(push: Pushed<Json>): void {
    const { items, next } = unseen(push, this.nextRecord);
    this.nextRecord = next;
    if (items.length === 0 || this.records.length >= MAX_RECORDS) return;
    this.records = [...this.records, ...items].slice(0, MAX_RECORDS);
    this.onChange();
  }
}
