/** Operations on the hub itself: its addresses, counters, settings, certificate and templates. */
import { joinCommand } from './enrollment.js';
import type { Settings } from './store/schema.js';
import { settingsPatchSchema } from './settings.js';
import { listTemplates, type TaskTemplate } from './templates.js';
import { definedOnly, parseInput, type ServiceDeps } from './service-common.js';

/** Addresses and counts for the status bar and the Add agent dialog. */
export interface HubInfo {
  version: string;
  uiUrl: string;
  agentJoinUrl: string;
  /** Certificate fingerprint agents pin (`sha256:HEX`); null when the agent port runs without TLS. */
  fingerprint: string | null;
  /** Ready to paste on a worker machine; null when no token is known in clear. */
  joinCommand: string | null;
}

/** Outcome of a certificate rotation: the old and new fingerprints, and how many connected agents moved their pin to the new one. */
export interface CertificateRotation {
  previous: string;
  fingerprint: string;
  agents: number;
  accepted: number;
}

export interface HubSummary {
  running: number;
  queued: number;
  agentsOnline: number;
  agentsTotal: number;
}

export class HubInfoService {
  constructor(private readonly deps: ServiceDeps) {}

  info(): HubInfo {
    const { version, uiUrl, agentJoinUrl, fingerprint, agentToken } = this.deps.info();
    return { version, uiUrl, agentJoinUrl, fingerprint, joinCommand: agentToken ? joinCommand(agentJoinUrl, agentToken, fingerprint) : null };
  }

  /** Replaces the agent port's certificate; connected agents move their pin first (see AgentGateway.rotateCertificate). */
  rotateCertificate(): Promise<CertificateRotation> {
    return this.deps.gateway.rotateCertificate();
  }

  summary(): HubSummary {
    let running = 0;
    let queued = 0;
    for (const run of this.deps.runs.activeRuns()) {
      if (run.status === 'queued') queued += 1;
      else running += 1;
    }
    const agents = this.deps.fleet.views();
    return { running, queued, agentsOnline: agents.filter((agent) => agent.status !== 'offline').length, agentsTotal: agents.length };
  }

  getSettings(): Settings {
    return this.deps.store.state.settings;
  }

  updateSettings(body: unknown): Settings {
    const patch = parseInput(settingsPatchSchema, body);
    const settings = { ...this.deps.store.state.settings, ...definedOnly(patch) };
    this.deps.store.state.settings = settings;
    this.deps.store.save();
    return settings;
  }

  listTemplates(): Promise<TaskTemplate[]> {
    return listTemplates(this.deps.templatesDir, this.deps.log);
  }
}
