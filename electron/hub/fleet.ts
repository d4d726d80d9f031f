/**
 * The fleet as the hub sees it: every agent it knows, with the live figures
 * of the connected ones. Persistent facts (name, tags, slots) live in the
 * store's agent records; connection state and load live only here.
 */
import type { Hello, LoadReport } from 'farmboy-agent/protocol';
import type { AgentRecord, AgentView } from './model.js';
import type { Candidate } from './placement.js';

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

  disconnect(agentId: string, now: number): AgentSession | undefined {
    const session = this.sessions.get(agentId);
    if (!session) return undefined;
    session.online = false;
    session.record.lastSeenAt = now;
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
  };
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
  };
}
