/** Operations on the fleet: agents, their draining state and enrollment tokens. */
import { notFound } from './errors.js';
import type { AgentView } from './model.js';
import { addEnrollmentToken, joinCommand, revokeEnrollmentToken, tokenCreateSchema, tokenView, type EnrollmentTokenView } from './enrollment.js';
import { parseInput, type ServiceDeps } from './service-common.js';

/** The join command for a new agent and its parts, for GET /api/agents/join. */
export interface AgentJoin {
  /** Null when the hub keeps no enrollment token in clear; create one to get a command. */
  command: string | null;
  url: string;
  token: string | null;
  fingerprint: string | null;
}

export class AgentService {
  constructor(private readonly deps: ServiceDeps) {}

  listAgents(): AgentView[] {
    return this.deps.fleet.views();
  }

  getAgent(id: string): AgentView {
    const view = this.deps.fleet.view(id);
    if (!view) throw notFound('agent', id);
    return view;
  }

  setDraining(id: string, draining: boolean): AgentView {
    const session = this.deps.fleet.get(id);
    if (!session) throw notFound('agent', id);
    session.record.draining = draining;
    this.deps.gateway.setDraining(id, draining);
    this.persistAgents();
    this.deps.onChanged('agent', id);
    if (!draining) this.deps.runs.dispatchSoon();
    return this.getAgent(id);
  }

  forgetAgent(id: string): void {
    if (!this.deps.fleet.get(id)) throw notFound('agent', id);
    this.deps.runs.agentForgotten(id, Date.now());
    this.deps.gateway.dismiss(id);
    this.deps.fleet.forget(id);
    this.persistAgents();
    this.deps.onChanged('agent', id);
  }

  persistAgents(): void {
    this.deps.store.state.agents = this.deps.fleet.records();
    this.deps.store.save();
  }

  agentJoin(): AgentJoin {
    const { agentJoinUrl, fingerprint, agentToken } = this.deps.info();
    const command = agentToken ? joinCommand(agentJoinUrl, agentToken, fingerprint) : null;
    return { command, url: agentJoinUrl, token: agentToken, fingerprint };
  }

  listEnrollmentTokens(): EnrollmentTokenView[] {
    return this.deps.store.state.enrollmentTokens.map(tokenView);
  }

  /** Creates an enrollment token; the reply is the only place its clear text ever appears. */
  createEnrollmentToken(body: unknown): { token: string; enrollmentToken: EnrollmentTokenView; joinCommand: string } {
    const { name, ...limits } = parseInput(tokenCreateSchema, body);
    const { token, entry } = addEnrollmentToken(this.deps.store.state.enrollmentTokens, name, Date.now(), limits);
    this.deps.store.save();
    const { agentJoinUrl, fingerprint } = this.deps.info();
    return { token, enrollmentToken: tokenView(entry), joinCommand: joinCommand(agentJoinUrl, token, fingerprint) };
  }

  revokeEnrollmentToken(id: string): EnrollmentTokenView {
    const entry = revokeEnrollmentToken(this.deps.store.state.enrollmentTokens, id, Date.now());
    this.deps.store.save();
    return tokenView(entry);
  }
}
