/**
 * Searching and sorting the jobs table.
 */
import type { Job, Task } from '../../../../electron/hub/model.js';
import type { JobOverview } from '../../../../electron/hub/ui-contract.js';

export type SortKey = 'name' | 'task' | 'next' | 'last';
export interface Sort {
  key: SortKey;
  descending: boolean;
}

export interface JobRow {
  job: Job;
  task: Task | undefined;
  overview: JobOverview | undefined;
}

function matches(row: JobRow, words: string[]): boolean {
  const haystack = [row.job.name, row.task?.name ?? '', row.job.schedule?.cron ?? 'manual', ...row.job.tags].join(' ').toLowerCase();
  return words.every((word) => haystack.includes(word));
}

function sortValue(row: JobRow, key: SortKey): string | number {
  switch (key) {
    case 'name':
      return row.job.name.toLowerCase();
    case 'task':
      return (row.task?.name ?? '').toLowerCase();
    case 'next':
      return row.overview?.nextFireAt ? Date.parse(row.overview.nextFireAt) : Number.MAX_SAFE_INTEGER;
    case 'last':
      return row.overview?.lastRun?.queuedAt ?? 0;
  }
}

/** Rows whose name, task, schedule or tags contain every word of `query`, in `sort` order. */
export function filterAndSort(rows: readonly JobRow[], query: string, sort: Sort): JobRow[] {
  const words = query.toLowerCase().split(/\s+/).filter(Boolean);
  const kept = words.length > 0 ? rows.filter((row) => matches(row, words)) : [...rows];
  const direction = sort.descending ? -1 : 1;
  return kept.sort((a, b) => {
    const left = sortValue(a, sort.key);
    const right = sortValue(b, sort.key);
    if (left === right) return a.job.name.localeCompare(b.job.name);
    return (left < right ? -1 : 1) * direction;
  });
}
