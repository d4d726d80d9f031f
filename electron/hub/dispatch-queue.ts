/**
 * The bookkeeping a dispatch pass reads: the queued runs in dispatch order
 * and the number of assigned or running runs per job. The run manager
 * updates it on every change of an active run, so a pass costs about the
 * number of queued runs it looks at, not a scan and a sort of every active
 * run.
 */
import diagnostics_channel from 'node:diagnostics_channel';
import type { Run } from './model.js';
import type { Candidate } from './placement.js';

function isBusy(run: Run | undefined): run is Run & { jobId: string } {
  return run !== undefined && run.jobId !== null && (run.status === 'assigned' || run.status === 'running');
}

export class DispatchQueue {
  /** Queued run ids with their queuedAt, in dispatch order while `sorted` holds. */
  private queued = new Map<string, number>();
  private sorted = true;
  private newestQueuedAt = Number.NEGATIVE_INFINITY;
  private readonly busyByJob = new Map<string, number>();
  /** Queued runs whose waiting reason is not set yet. */
  private readonly unexplained = new Set<string>();

  get size(): number {
    return this.queued.size;
  }

  /** Records a change of an active run: `previous` as it was active before, `next` undefined once it is final. */
  update(runId: string, previous: Run | undefined, next: Run | undefined): void {
    if (isBusy(previous)) this.addBusy(previous.jobId, -1);
    if (isBusy(next)) this.addBusy(next.jobId, 1);
    if (next?.status !== 'queued') {
      this.queued.delete(runId);
      this.unexplained.delete(runId);
      return;
    }
    if (next.waitingReason === null) this.unexplained.add(runId);
    else this.unexplained.delete(runId);
    if (this.queued.has(runId)) return;
    // A retry goes back to the queue with its original queuedAt, behind newer runs in the map.
    if (next.queuedAt < this.newestQueuedAt) this.sorted = false;
    else this.newestQueuedAt = next.queuedAt;
    this.queued.set(runId, next.queuedAt);
  }

  /** Assigned and running runs of a job. */
  busy(jobId: string): number {
    return this.busyByJob.get(jobId) ?? 0;
  }

  /**
   * Queued run ids, oldest queued first, equal times in the order they were
   * queued. Updates made while iterating are safe: a run that leaves the
   * queue is not visited again.
   */
  ids(): IterableIterator<string> {
    if (!this.sorted) {
      this.queued = new Map([...this.queued].sort((a, b) => a[1] - b[1]));
      this.newestQueuedAt = [...this.queued.values()].at(-1) ?? Number.NEGATIVE_INFINITY;
      this.sorted = true;
    }
    return this.queued.keys();
  }

  /** Queued run ids that have no waiting reason yet, in the order they were queued. */
  withoutReason(): IterableIterator<string> {
    return this.unexplained.values();
  }

  private addBusy(jobId: string, delta: number): void {
    const count = (this.busyByJob.get(jobId) ?? 0) + delta;
    if (count > 0) this.busyByJob.set(jobId, count);
    else this.busyByJob.delete(jobId);
  }
}

/**
 * Free slots of the agents that could take a run at all (online, not
 * draining, not unhealthy), ignoring tags and load: once it reaches zero, no
 * queued run can be placed in this pass.
 */
export function freeSlots(candidates: readonly Candidate[]): number {
  let free = 0;
  for (const candidate of candidates) {
    if (candidate.online && !candidate.draining && !candidate.unhealthy) free += Math.max(0, candidate.slots - candidate.running);
  }
  return free;
}

/** One dispatch pass: the fleet snapshot it places on and what it learned so far. */
export interface DispatchPass {
  now: number;
  /** The fleet's live candidates: an assignment made in the pass shows in them at once. */
  candidates: readonly Candidate[];
  /** Free slots left among online, non-draining, healthy agents. */
  free: number;
  /** Waiting reason per set of required tags that no agent could take in this pass. */
  unplaceable: Map<string, string>;
  /** Time taken by the fleet snapshot, in ms, until the pass's first decision counts it. */
  snapshotMs: number;
}

/** One placement decision, as published on `placementChannel`. */
export interface PlacementDecision {
  runId: string;
  /** The chosen agent, or null when the run has to wait. */
  agentId: string | null;
  /** Time to choose, in ms: the fleet snapshot (once per pass) and the choice among its agents. */
  decisionMs: number;
}

/**
 * Every placement decision with its duration, on the diagnostics channel
 * `farmboy:placement`, for benchmarks and monitoring; nothing is built
 * while no one subscribes.
 */
export const placementChannel = diagnostics_channel.channel('farmboy:placement');

/** Outcome of placing one queued run. */
export type PlaceOutcome = { kind: 'placed' } | { kind: 'ended' } | { kind: 'waiting'; reason: string | null };
