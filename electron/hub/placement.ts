/**
 * Placement: which agent takes a queued run. Pure functions over a snapshot
 * of the fleet, so the rules are tested without sockets or timers.
 *
 * An agent is eligible when it is online, not draining, carries every tag the
 * job targets, has a free slot and is below its own maximum load. Among the
 * eligible, the least busy wins: its reported normalized load plus the runs
 * assigned to it since that report, each counted as one busy CPU's share, so
 * a burst spreads out instead of piling onto the agent that looked idle a
 * moment ago. Ties go to the agent with the fewest running runs per slot,
 * then to the least recently assigned.
 */

export interface Candidate {
  id: string;
  online: boolean;
  draining: boolean;
  tags: readonly string[];
  slots: number;
  running: number;
  maxLoad: number | null;
  /** Normalized 1-minute load (load average / CPUs); null where unknown. */
  load: number | null;
  /** CPU utilisation 0..1 from the agent's last report; null where unknown. */
  cpu: number | null;
  cpus: number;
  assignedSinceReport: number;
  lastAssignedAt: number;
}

export interface Requirement {
  tags: readonly string[];
  /** Agents of earlier attempts: used only when no other agent is eligible. */
  avoid: readonly string[];
}

export type Placement = { agentId: string } | { agentId: null; waitingReason: string };

/**
 * Busy figure used when an agent has reported neither a load average nor a
 * CPU figure yet: treated as fully busy, so an agent of unknown load is never
 * preferred over one known to be idle.
 */
const UNKNOWN_LOAD = 1;

export function reportedLoad(candidate: Candidate): number {
  return candidate.load ?? candidate.cpu ?? UNKNOWN_LOAD;
}

// NOTE: a load report resets `assignedSinceReport`, but the 1-minute load average takes about a
// minute to show new CPU-bound runs and never shows sleeping ones, so a report arriving in the middle
// of a burst makes that agent look idle again and it takes more than its share.
export function busyScore(candidate: Candidate): number {
  return reportedLoad(candidate) + candidate.assignedSinceReport / Math.max(1, candidate.cpus);
}

type Ineligibility = 'offline' | 'draining' | 'tags' | 'slots' | 'load';

function ineligibility(candidate: Candidate, tags: readonly string[]): Ineligibility | null {
  if (!candidate.online) return 'offline';
  if (!tags.every((tag) => candidate.tags.includes(tag))) return 'tags';
  if (candidate.draining) return 'draining';
  if (candidate.running >= candidate.slots) return 'slots';
  if (candidate.maxLoad !== null && busyScore(candidate) >= candidate.maxLoad) return 'load';
  return null;
}

function compare(a: Candidate, b: Candidate): number {
  const byScore = busyScore(a) - busyScore(b);
  if (Math.abs(byScore) > 1e-9) return byScore;
  const byUse = a.running / a.slots - b.running / b.slots;
  if (Math.abs(byUse) > 1e-9) return byUse;
  return a.lastAssignedAt - b.lastAssignedAt;
}

/** Picks the agent for one run, or returns in words why the run has to wait. */
export function pickAgent(candidates: readonly Candidate[], requirement: Requirement): Placement {
  const eligible: Candidate[] = [];
  const counts: Record<Ineligibility, number> = { offline: 0, draining: 0, tags: 0, slots: 0, load: 0 };
  for (const candidate of candidates) {
    const reason = ineligibility(candidate, requirement.tags);
    if (reason === null) eligible.push(candidate);
    else counts[reason] += 1;
  }
  if (eligible.length === 0) return { agentId: null, waitingReason: describeWait(candidates.length, counts, requirement.tags) };

  const fresh = eligible.filter((candidate) => !requirement.avoid.includes(candidate.id));
  const pool = fresh.length > 0 ? fresh : eligible;
  let best = pool[0] as Candidate;
  for (const candidate of pool) if (compare(candidate, best) < 0) best = candidate;
  return { agentId: best.id };
}

function describeWait(total: number, counts: Record<Ineligibility, number>, tags: readonly string[]): string {
  if (total === 0) return 'waiting for an agent: no agent has joined the fleet yet';
  const online = total - counts.offline;
  if (online === 0) return `waiting for an agent: all ${total} known agents are offline`;
  const tagText = tags.length > 0 ? ` with tags ${tags.join(', ')}` : '';
  const matching = online - counts.draining - counts.tags;
  if (matching === 0) {
    if (counts.draining > 0) return `waiting for an agent${tagText}: every online agent that could take it is draining`;
    return `waiting for an agent${tagText}: no online agent carries them`;
  }
  const parts: string[] = [];
  if (counts.slots > 0) parts.push(`${counts.slots} with no free slot`);
  if (counts.load > 0) parts.push(`${counts.load} above their maximum load`);
  return `waiting for a free agent${tagText}: ${matching} matching online, ${parts.join(' and ')}`;
}
