/**
 * The fleet as the hub sees it: every agent it knows, with the live figures
 * of the connected ones. Persistent facts (name, tags, slots) live in the
 * store's agent records; connection state and load live only here.
 */
import type { Hello, LoadReport } from 'farmboy-agent/protocol';
import type { AgentRecord, AgentUnhealthy, AgentView } from './model.js';
import type { Candidate } from './placement.js';

/** Consecutive start failures after which an agent is left out of placement. */
export const START_FAILURE_THRESHOLD = 3;
/** The first back-off; each further one doubles, up to START_BACKOFF_MAX_MS. */
export const START_BACKOFF_BASE_MS = 30_000;
export const START_BACKOFF_MAX_MS = 10 * 60_000;

export interface AgentSession {
  record: AgentRecord;
  /** True between a valid hello and the disconnect. */
  online: boolean;
  load: number | null;
  cpu: number | null;
  freeMemoryBytes: number | null;
  /** Runs the hub has assigned to this agent that are not final yet. */
  runs: Set<string>;
  assignedSinceReport: number;
  lastAssignedAt: number;
  /**
   * Set when the agent refused an assignment: 'stopping' until its next hello,
   * 'busy' until its next load report. Placement skips it meanwhile, so a
   * refused run is not offered to the same agent again and again.
   */
  refusing: 'stopping' | 'busy' | null;
  /** Runs that failed to start on this agent in a row, since a run last started there. */
  startFailures: number;
  /** Back-offs taken since a run last started there; the next one lasts twice as long. */
  backoffs: number;
  /** The current or last back-off; it is over once `until` has passed. */
  unhealthy: AgentUnhealthy | null;
}

/** Returns the session's back-off if it is still running at `now`. */
function activeUnhealthy(session: AgentSession, now: number): AgentUnhealthy | null {
  return session.unhealthy !== null && session.unhealthy.until > now ? session.unhealthy : null;
}

/**
 * Placement's view of a session. The figures are read from the session at
 * each access, so a candidate stays current without being rebuilt. An
 * assignment made earlier in the same dispatch pass already counts.
 */
class SessionCandidate implements Candidate {
  constructor(private readonly session: AgentSession) {}

  get id(): string {
    return this.session.record.id;
  }
  get online(): boolean {
    return this.session.online;
  }
  get draining(): boolean {
    return this.session.record.draining || this.session.refusing !== null;
  }
  get tags(): readonly string[] {
    return this.session.record.tags;
  }
  get slots(): number {
    return this.session.record.slots;
  }
  get running(): number {
    return this.session.runs.size;
  }
  get maxLoad(): number | null {
    return this.session.record.maxLoad;
  }
  get load(): number | null {
    return this.session.load;
  }
  get cpu(): number | null {
    return this.session.cpu;
  }
  get cpus(): number {
    return this.session.record.facts?.cpus ?? 1;
  }
  get assignedSinceReport(): number {
    return this.session.assignedSinceReport;
  }
  get lastAssignedAt(): number {
    return this.session.lastAssignedAt;
  }
  get name(): string {
    return this.session.record.name;
  }
  /** Read for every candidate of every placement, so the clock is read only for an agent that had a back-off. */
  get unhealthy(): AgentUnhealthy | null {
    return this.session.unhealthy === null ? null : activeUnhealthy(this.session, Date.now());
  }
}

export class Fleet {
  private readonly sessions = new Map<string, AgentSession>();
  /** Live candidates of all sessions, rebuilt only when an agent joins or is forgotten. */
  private candidateList: readonly Candidate[] | null = null;

  constructor(records: readonly AgentRecord[]) {
    for (const record of records) this.sessions.set(record.id, newSession(record));
  }

  get(agentId: string): AgentSession | undefined {
    return this.sessions.get(agentId);
  }

  /** Registers or refreshes an agent from its hello, and returns its record for the store. */
  connect(agentId: string, name: string, version: string, hello: Hello, now: number): AgentSession {
    const existing = this.sessions.get(agentId);
    const record: AgentRecord = {
      id: agentId,
      name,
      version,
      tags: hello.tags,
      slots: hello.slots,
      maxLoad: hello.maxLoad,
      facts: hello.facts,
      firstSeenAt: existing?.record.firstSeenAt ?? now,
      lastSeenAt: now,
      draining: existing?.record.draining ?? false,
    };
    const session = existing ?? newSession(record);
    if (!existing) this.candidateList = null;
    session.record = record;
    session.online = true;
    session.assignedSinceReport = 0;
    session.refusing = null;
    this.sessions.set(agentId, session);
    return session;
  }

  /**
   * Marks an agent offline. Its `lastSeenAt` stays the time of its last
   * message, because a silent drop is noticed only after the ping timeout.
   */
  disconnect(agentId: string): AgentSession | undefined {
    const session = this.sessions.get(agentId);
    if (!session) return undefined;
    session.online = false;
    session.load = null;
    session.cpu = null;
    return session;
  }

  forget(agentId: string): boolean {
    this.candidateList = null;
    return this.sessions.delete(agentId);
  }

  reportLoad(agentId: string, report: LoadReport, now: number): void {
    const session = this.sessions.get(agentId);
    if (!session) return;
    session.load = report.load;
    session.cpu = report.cpu;
    session.freeMemoryBytes = report.freeMemoryBytes;
    session.assignedSinceReport = 0;
    if (session.refusing === 'busy') session.refusing = null;
    session.record.lastSeenAt = now;
  }

  /** Records that a message arrived from the agent. */
  noteSeen(agentId: string, now: number): void {
    const session = this.sessions.get(agentId);
    if (session) session.record.lastSeenAt = now;
  }

  /**
   * Counts a run that failed on the agent before it started. From the
   * START_FAILURE_THRESHOLD-th failure in a row, the agent is left out of
   * placement for a back-off of 30 s, then 1 min, 2 min and so on up to
   * 10 min. Returns true when a back-off began.
   */
  noteStartFailure(agentId: string, error: string, now: number): boolean {
    const session = this.sessions.get(agentId);
    if (!session) return false;
    session.startFailures += 1;
    if (session.startFailures < START_FAILURE_THRESHOLD || activeUnhealthy(session, now) !== null) return false;
    const backoffMs = Math.min(START_BACKOFF_BASE_MS * 2 ** session.backoffs, START_BACKOFF_MAX_MS);
    session.backoffs += 1;
    session.unhealthy = { reason: `${session.startFailures} runs failed to start: ${error}`, until: now + backoffMs };
    return true;
  }

  /** Resets the agent's start failures and back-off, because a run started there. */
  noteStarted(agentId: string): void {
    const session = this.sessions.get(agentId);
    if (session) clearHealth(session);
  }

  /** Ends a back-off at the user's request (drain or resume); true when there was one. */
  clearUnhealthy(agentId: string): boolean {
    const session = this.sessions.get(agentId);
    if (!session) return false;
    const had = session.unhealthy !== null || session.startFailures > 0;
    clearHealth(session);
    return had;
  }

  noteAssigned(agentId: string, runId: string, now: number): void {
    const session = this.sessions.get(agentId);
    if (!session) return;
    session.runs.add(runId);
    session.assignedSinceReport += 1;
    session.lastAssignedAt = now;
  }

  noteReleased(agentId: string | null, runId: string): void {
    if (agentId) this.sessions.get(agentId)?.runs.delete(runId);
  }

  noteRefusal(agentId: string, refusing: 'stopping' | 'busy'): void {
    const session = this.sessions.get(agentId);
    if (session) session.refusing = refusing;
  }

  /**
   * Returns every known agent as a placement candidate. The list is shared
   * and its entries read the sessions live, so a dispatch pass costs no copy
   * of the fleet. Treat it as read-only.
   */
  candidates(): readonly Candidate[] {
    this.candidateList ??= [...this.sessions.values()].map((session) => new SessionCandidate(session));
    return this.candidateList;
  }

  view(agentId: string): AgentView | undefined {
    const session = this.sessions.get(agentId);
    return session ? toView(session) : undefined;
  }

  views(): AgentView[] {
    return [...this.sessions.values()].map(toView);
  }

  records(): AgentRecord[] {
    return [...this.sessions.values()].map((session) => session.record);
  }

  onlineCount(): number {
    let count = 0;
    for (const session of this.sessions.values()) if (session.online) count += 1;
    return count;
  }
}

function newSession(record: AgentRecord): AgentSession {
  return {
    record,
    online: false,
    load: null,
    cpu: null,
    freeMemoryBytes: null,
    runs: new Set(),
    assignedSinceReport: 0,
    lastAssignedAt: 0,
    refusing: null,
    startFailures: 0,
    backoffs: 0,
    unhealthy: null,
  };
}

function clearHealth(session: AgentSession): void {
  session.startFailures = 0;
  session.backoffs = 0;
  session.unhealthy = null;
}

function toView(session: AgentSession): AgentView {
  const status = !session.online ? 'offline' : session.record.draining ? 'draining' : 'online';
  return {
    ...session.record,
    status,
    running: session.runs.size,
    load: session.load,
    cpu: session.cpu,
    freeMemoryBytes: session.freeMemoryBytes,
    unhealthy: activeUnhealthy(session, Date.now()),
  };
}
