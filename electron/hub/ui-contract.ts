/**
 * The contract of the /ui socket.io namespace, shared by the hub and the
 * renderer: one request event with an ack, and the pushes the hub sends.
 * Requests name a method of this table; replies are `{ ok, data }` or
 * `{ ok: false, error }` with the same error codes as the HTTP API.
 */
import type { AgentView, Job, Run, StoredLogLine, Task } from './model.js';
import type { Json } from 'farmboy-agent/protocol';
import type { EnrollmentTokenView } from './enrollment.js';
import type { JobDocument } from './job-transfer.js';
import type { AgentJoin, CertificateRotation, HubInfo, HubSummary, JobOverview } from './service.js';
import type { ApiKeyScope, ApiKeyView } from './admin-access.js';
import type { Settings } from './store/schema.js';
import type { TaskTemplate } from './templates.js';
import type { AlertDelivery, AlertFormat, AlertPatch, AlertSettingsView, NetworkPatch, NetworkView } from './settings.js';

export type { AlertDelivery, AlertFormat, AlertPatch, AlertSettingsView, NetworkPatch, NetworkView };
export type { AgentJoin, ApiKeyScope, CertificateRotation, ApiKeyView, EnrollmentTokenView, HubInfo, HubSummary, JobDocument, JobOverview, Settings, TaskTemplate };

export const UI_NAMESPACE = '/ui';

export interface UiMethods {
  'agents.list': { params: void; result: AgentView[] };
  'agents.drain': { params: { id: string; draining: boolean }; result: AgentView };
  'agents.forget': { params: { id: string }; result: null };
  /** The join command for a new agent, with the hub's certificate fingerprint. */
  'agents.join': { params: void; result: AgentJoin };
  /** New key and certificate for the agent port; connected agents follow without joining again. */
  'hub.rotateCertificate': { params: void; result: CertificateRotation };
  'tasks.list': { params: void; result: Task[] };
  'tasks.get': { params: { id: string }; result: Task };
  'tasks.create': { params: unknown; result: Task };
  'tasks.update': { params: { id: string; patch: unknown }; result: Task };
  'tasks.delete': { params: { id: string }; result: null };
  /** With `agentId`, the run waits for that agent only and never goes to another. */
  'tasks.run': { params: { id: string; config?: unknown; tags?: string[]; agentId?: string | null }; result: Run };
  'jobs.list': { params: void; result: Job[] };
  'jobs.get': { params: { id: string }; result: Job };
  'jobs.create': { params: unknown; result: Job };
  'jobs.update': { params: { id: string; patch: unknown }; result: Job };
  'jobs.delete': { params: { id: string }; result: null };
  'jobs.run': { params: { id: string }; result: Run };
  'schedule.preview': { params: { cron: string; timezone?: string; count?: number }; result: string[] };
  'runs.list': { params: unknown; result: Run[] };
  'runs.get': { params: { id: string }; result: Run };
  'runs.cancel': { params: { id: string }; result: Run };
  /** The stored log so far, then live `log` and `records` pushes for that run until `runs.unwatch`. */
  'runs.watch': { params: { id: string }; result: RunWatch };
  'runs.unwatch': { params: { id: string }; result: null };
  /** Live `log` pushes of every run until `logs.unfollow`; returns the runs not final yet. */
  'logs.follow': { params: void; result: Run[] };
  'logs.unfollow': { params: void; result: null };
  'jobs.overview': { params: void; result: JobOverview[] };
  'jobs.duplicate': { params: { id: string }; result: Job };
  /** Applies the fields `patch` names to every job in `ids`: all or none. */
  'jobs.bulkUpdate': { params: { ids: string[]; patch: unknown }; result: Job[] };
  /** All jobs, or those in `ids`, as a document `jobs.import` reads. */
  'jobs.export': { params: { ids?: string[] }; result: JobDocument };
  'jobs.import': { params: unknown; result: Job[] };
  'hub.info': { params: void; result: HubInfo };
  'hub.summary': { params: void; result: HubSummary };
  'settings.get': { params: void; result: Settings };
  'settings.update': { params: unknown; result: Settings };
  /** Stored network settings and the values the running hub uses; changes apply at the next start. */
  'network.get': { params: void; result: NetworkView };
  'network.update': { params: NetworkPatch; result: NetworkView };
  /** The failure alert webhook, its URL masked, and the last delivery. */
  'alerts.get': { params: void; result: AlertSettingsView };
  'alerts.update': { params: AlertPatch; result: AlertSettingsView };
  /** Posts a test message to `url`, or to the saved URL; the reply has the HTTP status or the error. */
  'alerts.test': { params: { url?: string; format?: AlertFormat }; result: AlertDelivery };
  'tokens.list': { params: void; result: EnrollmentTokenView[] };
  /** The token's clear text appears in this reply only. */
  'tokens.create': { params: { name: string; expiresAt?: number | null; maxUses?: number | null }; result: { token: string; enrollmentToken: EnrollmentTokenView; joinCommand: string } };
  'tokens.revoke': { params: { id: string }; result: EnrollmentTokenView };
  'keys.list': { params: void; result: ApiKeyView[] };
  /** The key's clear text appears in this reply only. */
  'keys.create': { params: { name: string; scope: ApiKeyScope }; result: { key: string; apiKey: ApiKeyView } };
  'keys.revoke': { params: { id: string }; result: ApiKeyView };
  'templates.list': { params: void; result: TaskTemplate[] };
}

export type UiMethod = keyof UiMethods;

export type UiReply<T> = { ok: true; data: T } | { ok: false; error: { code: string; message: string; field?: string; details?: unknown } };

export interface UiRequest<M extends UiMethod = UiMethod> {
  method: M;
  params: UiMethods[M]['params'];
}

/**
 * The stored output of a run when a watch began: the last 5,000 lines and
 * every record. Pushes may repeat items the reply contains. A client keeps
 * a pushed item only when its index (`from` plus its position in the push)
 * is at least `nextLine` or `nextRecord`, and then moves that mark on.
 */
export interface RunWatch {
  lines: StoredLogLine[];
  records: Json[];
  /** Index in the run's log of the first line after `lines`. */
  nextLine: number;
  /** Index in the run's records of the first record after `records`. */
  nextRecord: number;
}

/** Changes pushed to every UI client, coalesced over a short window. */
export interface UiChanges {
  runs: Run[];
  agents: AgentView[];
  jobs: string[];
  tasks: string[];
}

export interface UiServerEvents {
  changes: (changes: UiChanges) => void;
  /** Lines of a run's log; `from` is the index of the first one in the run's log. */
  log: (payload: { runId: string; from: number; lines: StoredLogLine[] }) => void;
  /** Records of a run; `from` is the index of the first one in the run's records. */
  records: (payload: { runId: string; from: number; records: Json[] }) => void;
}

export interface UiClientEvents {
  request: (request: UiRequest, ack: (reply: UiReply<unknown>) => void) => void;
}
