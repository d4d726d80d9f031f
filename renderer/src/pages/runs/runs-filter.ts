/**
 * The runs page's filters and how a pushed run joins the list shown.
 */
import type { Run, RunStatus } from '../../../../electron/hub/model.js';

export interface RunsFilter {
  jobId: string | null;
  status: RunStatus | null;
  agentId: string | null;
  /** Only runs queued within this many milliseconds before now. */
  withinMs: number | null;
}

export const TIME_RANGES: ReadonlyArray<{ label: string; ms: number | null }> = [
  { label: 'Any time', ms: null },
  { label: 'Last hour', ms: 3_600_000 },
  { label: 'Last 24 hours', ms: 86_400_000 },
  { label: 'Last 7 days', ms: 7 * 86_400_000 },
  { label: 'Last 30 days', ms: 30 * 86_400_000 },
];

export function matchesFilter(run: Run, filter: RunsFilter, now: number): boolean {
  if (filter.jobId !== null && run.jobId !== filter.jobId) return false;
  if (filter.status !== null && run.status !== filter.status) return false;
  if (filter.agentId !== null && run.agentId !== filter.agentId) return false;
  if (filter.withinMs !== null && run.queuedAt < now - filter.withinMs) return false;
  return true;
}

/**
 * Applies pushed runs to a list ordered newest first. A listed run is
 * replaced, or dropped once it no longer matches the filter. A new matching
 * run is added at the top when it is newer than the newest listed one,
 * because older ones belong to pages not loaded yet.
 */
export function applyRunChanges(list: readonly Run[], changed: readonly Run[], filter: RunsFilter, now: number): Run[] {
  const byId = new Map(changed.map((run) => [run.id, run]));
  const next = list.flatMap((run) => {
    const update = byId.get(run.id);
    if (!update) return [run];
    byId.delete(run.id);
    return matchesFilter(update, filter, now) ? [update] : [];
  });
  const newest = list[0]?.queuedAt ?? 0;
  const added = [...byId.values()].filter((run) => run.queuedAt >= newest && matchesFilter(run, filter, now)).sort((a, b) => b.queuedAt - a.queuedAt);
  return added.length > 0 ? [...added, ...next] : next;
}
