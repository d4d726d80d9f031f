/**
 * Lines of the live logs page, in the order their pushes arrived. After a
 * reconnect the hub may push lines the page has already shown, so each push
 * is cut by the line's index in its run's log (`unseen`).
 */
import type { StoredLogLine } from '../../../../electron/hub/model.js';
import { unseen } from '../../components/log-viewer/run-log-feed.js';

export interface LiveLine extends StoredLogLine {
  runId: string;
}

/** Runs whose next line index is remembered; the oldest is forgotten past it. */
const MAX_TRACKED_RUNS = 10_000;

export class LiveLines {
  private list: LiveLine[] = [];
  /** Per run, the index in its log of the next line not shown yet. */
  private readonly next = new Map<string, number>();

  constructor(private readonly maxLines: number) {}

  get lines(): readonly LiveLine[] {
    return this.list;
  }

  /** Adds the lines of one push that the page has not shown; returns how many were new. */
  add(runId: string, from: number, lines: readonly StoredLogLine[]): number {
    const known = this.next.get(runId);
    // A run first seen here starts at its first push: the page shows nothing from before it opened.
    const fresh = unseen({ from, items: lines }, known ?? from);
    this.next.delete(runId);
    this.next.set(runId, fresh.next);
    if (this.next.size > MAX_TRACKED_RUNS) this.next.delete(this.next.keys().next().value as string);
    if (fresh.items.length === 0) return 0;
    for (const line of fresh.items) this.list.push({ ...line, runId });
    if (this.list.length > this.maxLines) this.list = this.list.slice(-this.maxLines);
    return fresh.items.length;
  }
}
