/**
 * Placement: which agent takes a queued run. Pure functions over a snapshot
 * of the fleet, so the rules are tested without sockets or timers.
 *
 * An agent is eligible when it is online, not draining, carries every tag the
 * job targets, has a free slot and is below its own maximum load. Among the
 * eligible, the least busy wins: its reported normalized load plus the runs
 * assigned to it since that report, each counted as one busy CPU's share, so
 * a burst spreads out instead of piling onto the agent that looked idle a
 * moment ago. The runs the hub has on the agent, per CPU, are a floor under
 * that figure (see `busyScore`). Ties go to the agent with the fewest
 * running runs per slot, then to the least recently assigned.
 *
 * An agent whose runs keep failing before they start is unhealthy for a
 * back-off period (see `Fleet.noteStartFailure`) and is left out meanwhile.
 */
import type { AgentUnhealthy as Unhealthy } from './model.js';

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
  /** Name shown in waiting reasons; the id where absent. */
  name?: string;
  /** Set while the agent is left out after repeated start failures. */
  unhealthy?: Unhealthy | null;
}

export interface Requirement {
  tags: readonly string[];
  /** Agents of earlier attempts: used only when no other agent is eligible. */
  avoid: readonly string[];
  /** The one agent the run may go to; null or absent for any eligible agent. */
  pinned?: string | null;
  /**
   * Agents that must not take the run now: agents that may still apply an
   * acknowledgement of the run's previous attempt to a new one.
   */
  exclude?: readonly string[];
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

/**
 * Returns how busy an agent is, as a share of its CPUs. A load report resets
 * `assignedSinceReport`, but the 1-minute load average takes about a minute
 * to show new CPU-bound runs and never shows sleeping ones. So the runs the
 * hub holds on the agent (`running`, per CPU) are a floor, and a report that
 * arrives in the middle of a burst does not make the agent look idle again.
 */
export function busyScore(candidate: Candidate): number {
  const cpus = Math.max(1, candidate.cpus);
  return Math.max(reportedLoad(candidate) + candidate.assignedSinceReport / cpus, candidate.running / cpus);
}

type Ineligibility = 'offline' | 'draining' | 'tags' | 'unhealthy' | 'excluded' | 'slots' | 'load';

function ineligibility(candidate: Candidate, requirement: Requirement): Ineligibility | null {
  if (!candidate.online) return 'offline';
  if (!requirement.tags.every((tag) => candidate.tags.includes(tag))) return 'tags';
  if (candidate.draining) return 'draining';
  if (candidate.unhealthy) return 'unhealthy';
  if (requirement.exclude?.includes(candidate.id)) return 'excluded';
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
  if (requirement.pinned) return pickPinned(candidates, requirement.pinned, requirement);
  const eligible: Candidate[] = [];
  const unhealthy: Candidate[] = [];
  const counts: Record<Ineligibility, number> = { offline: 0, draining: 0, tags: 0, unhealthy: 0, excluded: 0, slots: 0, load: 0 };
  for (const candidate of candidates) {
    const reason = ineligibility(candidate, requirement);
    if (reason === null) eligible.push(candidate);
    else counts[reason] += 1;
    if (reason === 'unhealthy') unhealthy.push(candidate);
  }
  if (eligible.length === 0) return { agentId: null, waitingReason: describeWait(candidates.length, counts, requirement.tags, unhealthy) };

  const fresh = eligible.filter((candidate) => !requirement.avoid.includes(candidate.id));
  const pool = fresh.length > 0 ? fresh : eligible;
  let best = pool[0] as Candidate;
  for (const candidate of pool) if (compare(candidate, best) < 0) best = candidate;
  return { agentId: best.id };
}

const PINNED_WAIT: Record<Exclude<Ineligibility, 'unhealthy'>, string> = {
  offline: 'it is offline',
  draining: 'it is draining',
  tags: 'it does not carry every tag the run targets',
  excluded: 'it is still reporting the end of the previous attempt',
  slots: 'it has no free slot',
  load: 'it is above its maximum load',
};

/** Places a run pinned to one agent: that agent or none, so the run never lands elsewhere. */
function pickPinned(candidates: readonly Candidate[], agentId: string, requirement: Requirement): Placement {
  const candidate = candidates.find((entry) => entry.id === agentId);
  if (!candidate) return { agentId: null, waitingReason: 'waiting for the chosen agent: it is not in the fleet' };
  const reason = ineligibility(candidate, requirement);
  if (reason === 'unhealthy' && candidate.unhealthy) return { agentId: null, waitingReason: `waiting for the chosen agent: it is ${describeUnhealthy(candidate.unhealthy)}` };
  if (reason !== null && reason !== 'unhealthy') return { agentId: null, waitingReason: `waiting for the chosen agent: ${PINNED_WAIT[reason]}` };
  return { agentId: candidate.id };
}

/** Formats an agent's back-off for waiting reasons, such as "unhealthy until 10:31:05 UTC (3 runs failed to start: ...)". */
export function describeUnhealthy(unhealthy: Unhealthy): string {
  const until = new Date(unhealthy.until).toISOString().slice(11, 19);
  return `unhealthy until ${until} UTC (${unhealthy.reason})`;
}

/** Names the unhealthy agents, with the reason when there is only one. */
function describeUnhealthyAgents(unhealthy: readonly Candidate[]): string {
  const only = unhealthy.length === 1 ? unhealthy[0] : undefined;
  if (only?.unhealthy) return `agent ${only.name ?? only.id} is ${describeUnhealthy(only.unhealthy)}`;
  const names = unhealthy.slice(0, 3).map((candidate) => candidate.name ?? candidate.id);
  const more = unhealthy.length > names.length ? ` and ${unhealthy.length - names.length} more` : '';
  return `${unhealthy.length} unhealthy after failing to start runs (${names.join(', ')}${more})`;
}

function describeWait(total: number, counts: Record<Ineligibility, number>, tags: readonly string[], unhealthy: readonly Candidate[]): string {
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
  if (counts.excluded > 0) parts.push(`${counts.excluded} still reporting the end of the previous attempt`);
  if (unhealthy.length > 0) parts.push(describeUnhealthyAgents(unhealthy));
  return `waiting for a free agent${tagText}: ${matching} matching online, ${parts.join(' and ')}`;
}
