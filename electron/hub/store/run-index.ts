/**
 * In-memory index of runs: a map by id, and arrays ordered by (queuedAt, id)
 * for all runs and for each job, final status and agent. A filtered page
 * therefore costs about its own length, not a scan of history. Runs are
 * nearly always added in queue order and end while they are recent, so an
 * insert is a push or splices near the end.
 *
 * Runs that are not final have no status array: a burst of queued runs
 * would make every dispatch splice near the start of a long `queued` array.
 * A page filtered by such a status sorts the matching unfinished runs instead.
 */
import { isFinal, type Run, type RunFilter } from '../model.js';

interface RunEntry {
  run: Run;
  /** The run's queuedAt when it was placed, which fixes its position. */
  queuedAt: number;
  /** Keys of the buckets the entry is in: `job:<id>`, `status:<final status>`, `agent:<id>`. */
  buckets: string[];
}

function bucketsOf(run: Run): string[] {
  const keys = isFinal(run.status) ? [`status:${run.status}`] : [];
  if (run.jobId !== null) keys.push(`job:${run.jobId}`);
  if (run.agentId !== null) keys.push(`agent:${run.agentId}`);
  return keys;
}

export class RunIndex {
  private readonly byId = new Map<string, RunEntry>();
  private ordered: RunEntry[] = [];
  private readonly buckets = new Map<string, RunEntry[]>();
  private readonly open = new Map<string, RunEntry>();

  set(run: Run): void {
    const existing = this.byId.get(run.id);
    if (existing && existing.queuedAt === run.queuedAt) {
      existing.run = run;
      this.moveBuckets(existing, bucketsOf(run));
      this.trackFinal(existing);
      return;
    }
    if (existing) {
      removeSorted(this.ordered, existing);
      this.moveBuckets(existing, []);
    }
    const entry: RunEntry = { run, queuedAt: run.queuedAt, buckets: [] };
    this.byId.set(run.id, entry);
    insertSorted(this.ordered, entry);
    this.moveBuckets(entry, bucketsOf(run));
    this.trackFinal(entry);
  }

  get(id: string): Run | undefined {
    return this.byId.get(id)?.run;
  }

  has(id: string): boolean {
    return this.byId.has(id);
  }

  count(): number {
    return this.byId.size;
  }

  nonFinal(): Run[] {
    return [...this.open.values()].map((entry) => entry.run);
  }

  latestForJob(jobId: string): Run | undefined {
    return this.buckets.get(`job:${jobId}`)?.at(-1)?.run;
  }

  /** Returns all runs, oldest queued first. */
  runs(): Run[] {
    return this.ordered.map((entry) => entry.run);
  }

  /** Lists matching runs newest first, from just before the `before` run when given. An unknown cursor gives no runs. */
  list(filter: RunFilter): Run[] {
    const source = this.smallestSource(filter);
    let index = source.length - 1;
    if (filter.before !== undefined) {
      const cursor = this.byId.get(filter.before);
      if (!cursor) return [];
      index = lowerBound(source, cursor) - 1;
    }
    // Sources are ordered by queue time, so `to` is a start position and `from` a place to stop.
    if (filter.to !== undefined) index = Math.min(index, queuedBefore(source, filter.to) - 1);
    const result: Run[] = [];
    for (; index >= 0 && result.length < filter.limit; index -= 1) {
      const run = (source[index] as RunEntry).run;
      if (filter.from !== undefined && run.queuedAt < filter.from) break;
      if (filter.jobId !== undefined && run.jobId !== filter.jobId) continue;
      if (filter.status !== undefined && run.status !== filter.status) continue;
      if (filter.agentId !== undefined && run.agentId !== filter.agentId) continue;
      result.push(run);
    }
    return result;
  }

  /** Removes many runs in one pass over the arrays. */
  deleteMany(ids: ReadonlySet<string>): void {
    if (ids.size === 0) return;
    for (const id of ids) {
      this.byId.delete(id);
      this.open.delete(id);
    }
    const isKept = (entry: RunEntry): boolean => !ids.has(entry.run.id);
    this.ordered = this.ordered.filter(isKept);
    for (const [key, list] of this.buckets) {
      const remaining = list.filter(isKept);
      if (remaining.length === 0) this.buckets.delete(key);
      else this.buckets.set(key, remaining);
    }
  }

  /** Returns the shortest ordered list that contains every run the filter can match. */
  private smallestSource(filter: RunFilter): readonly RunEntry[] {
    const keys: string[] = [];
    if (filter.jobId !== undefined) keys.push(`job:${filter.jobId}`);
    if (filter.status !== undefined && isFinal(filter.status)) keys.push(`status:${filter.status}`);
    if (filter.agentId !== undefined) keys.push(`agent:${filter.agentId}`);
    let source: readonly RunEntry[] = this.ordered;
    const status = filter.status;
    if (status !== undefined && !isFinal(status)) {
      source = [...this.open.values()].filter((entry) => entry.run.status === status).sort(compare);
    }
    for (const key of keys) {
      const bucket = this.buckets.get(key) ?? [];
      if (bucket.length < source.length) source = bucket;
    }
    return source;
  }

  private moveBuckets(entry: RunEntry, next: string[]): void {
    for (const key of entry.buckets) {
      if (next.includes(key)) continue;
      const list = this.buckets.get(key);
      if (!list) continue;
      removeSorted(list, entry);
      if (list.length === 0) this.buckets.delete(key);
    }
    for (const key of next) {
      if (entry.buckets.includes(key)) continue;
      let list = this.buckets.get(key);
      if (!list) {
        list = [];
        this.buckets.set(key, list);
      }
      insertSorted(list, entry);
    }
    entry.buckets = next;
  }

  private trackFinal(entry: RunEntry): void {
    if (isFinal(entry.run.status)) this.open.delete(entry.run.id);
    else this.open.set(entry.run.id, entry);
  }
}

function compare(a: RunEntry, b: RunEntry): number {
  if (a.queuedAt !== b.queuedAt) return a.queuedAt - b.queuedAt;
  if (a.run.id === b.run.id) return 0;
  return a.run.id < b.run.id ? -1 : 1;
}

/** Index of the first entry not ordered before `target`. */
function lowerBound(list: readonly RunEntry[], target: RunEntry): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compare(list[middle] as RunEntry, target) < 0) low = middle + 1;
    else high = middle;
  }
  return low;
}

/** Index of the first entry queued at or after `time`. */
function queuedBefore(list: readonly RunEntry[], time: number): number {
  let low = 0;
  let high = list.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((list[middle] as RunEntry).queuedAt < time) low = middle + 1;
    else high = middle;
  }
  return low;
}

function insertSorted(list: RunEntry[], entry: RunEntry): void {
  const last = list.at(-1);
  if (!last || compare(last, entry) <= 0) {
    list.push(entry);
    return;
  }
  list.splice(lowerBound(list, entry), 0, entry);
}

function removeSorted(list: RunEntry[], entry: RunEntry): void {
  const index = lowerBound(list, entry);
  if (list[index] === entry) list.splice(index, 1);
}
