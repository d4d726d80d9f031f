/**
 * The fires a history entry stands for, in words: missed fires, skipped
 * fires and the missed fires a catch-up run replaced.
 */
import type { Run } from '../../../../electron/hub/model.js';
import { formatDateTime } from '../../lib/format.js';

function fireCount(count: number): string {
  return count === 1 ? '1 scheduled fire' : `${count.toLocaleString('en-US')} scheduled fires`;
}

function span(first: number, last: number): string {
  return first === last ? `at ${formatDateTime(first)}` : `from ${formatDateTime(first)} to ${formatDateTime(last)}`;
}

/** Returns the sentence for a missed, skipped or catch-up entry, or null for any other run. */
export function describeFires(run: Pick<Run, 'status' | 'trigger' | 'fires' | 'skipReason'>): string | null {
  const fires = run.fires;
  if (!fires) return null;
  const when = span(fires.first, fires.last);
  if (run.status === 'missed') return `Missed ${fireCount(fires.count)} ${when}; the job's catch-up policy is none, so no run started.`;
  if (run.status === 'skipped') return `Skipped ${fireCount(fires.count)} ${when} because ${run.skipReason ?? 'the overlap policy allowed no new run'}.`;
  if (run.trigger === 'catch_up') return `Caught up ${fires.count === 1 ? '1 missed fire' : `${fires.count.toLocaleString('en-US')} missed fires`} ${when} with this one run.`;
  return null;
}

/** Returns the short form for a table cell: "144 missed", "3 skipped", "caught up 12". */
export function shortFires(run: Pick<Run, 'status' | 'trigger' | 'fires'>): string | null {
  const fires = run.fires;
  if (!fires) return null;
  const count = fires.count.toLocaleString('en-US');
  if (run.status === 'missed') return `${count} missed`;
  if (run.status === 'skipped') return `${count} skipped`;
  if (run.trigger === 'catch_up') return `caught up ${count}`;
  return null;
}
