/**
 * Operations the hub offers its callers, with every input validated. The HTTP API
 * and the /ui namespace are thin layers over this one class, so both apply
 * the same rules and return the same errors. Each concern lives in its own
 * `service-*.ts` module; this class only routes to them.
 */
import type { AgentView, Job, Json, Run, StoredLogLine, Task } from './model.js';
import type { Settings } from './store/schema.js';
import type { EnrollmentTokenView } from './enrollment.js';
import type { JobDocument } from './job-transfer.js';
import type { TaskTemplate } from './templates.js';
import type { ServiceDeps } from './service-common.js';
import { HubError } from './errors.js';
import { errorText } from './store/errors.js';
import { AgentService, type AgentJoin } from './service-agents.js';
import { TaskService } from './service-tasks.js';
import { JobService, type JobOverview } from './service-jobs.js';
import { RunService } from './service-runs.js';
import { HubInfoService, type CertificateRotation, type HubInfo, type HubSummary } from './service-hub.js';
import { SettingsService } from './service-settings.js';
import type { AlertDelivery, AlertSettingsView, NetworkView } from './settings.js';

export { parseInput, type HubAddresses, type ServiceDeps } from './service-common.js';
export type { AgentJoin } from './service-agents.js';
export type { JobOverview } from './service-jobs.js';
export type { CertificateRotation, HubInfo, HubSummary } from './service-hub.js';

export class HubService {
  private readonly agents: AgentService;
  private readonly tasks: TaskService;
  private readonly jobs: JobService;
  private readonly runs: RunService;
  private readonly hub: HubInfoService;
  private readonly settings: SettingsService;

  constructor(private readonly deps: ServiceDeps) {
    this.agents = new AgentService(deps);
    this.tasks = new TaskService(deps);
    this.jobs = new JobService(deps);
    this.runs = new RunService(deps, { getJob: (id) => this.jobs.getJob(id), getTask: (id) => this.tasks.getTask(id) });
    this.hub = new HubInfoService(deps);
    this.settings = new SettingsService(deps, deps.alerts);
  }

  /**
   * Waits until the definitions a call changed (tasks, jobs, agents, tokens,
   * settings) are on disk, so a caller that got a reply still finds its
   * change after a hub crash. Calls that arrive together share one write.
   */
  async saveChanges(): Promise<void> {
    try {
      await this.deps.store.flushDefinitions();
    } catch (error: unknown) {
      throw new HubError('unavailable', `the change is applied, but it could not be written to disk, so a hub restart would lose it: ${errorText(error)}`);
    }
  }

  // Agents and enrollment tokens
  listAgents(): AgentView[] { return this.agents.listAgents(); }
  getAgent(id: string): AgentView { return this.agents.getAgent(id); }
  setDraining(id: string, draining: boolean): AgentView { return this.agents.setDraining(id, draining); }
  forgetAgent(id: string): void { this.agents.forgetAgent(id); }
  persistAgents(): void { this.agents.persistAgents(); }
  agentJoin(): AgentJoin { return this.agents.agentJoin(); }
  listEnrollmentTokens(): EnrollmentTokenView[] { return this.agents.listEnrollmentTokens(); }
  /** Creates an enrollment token; the reply is the only place its clear text ever appears. */
  createEnrollmentToken(body: unknown): ReturnType<AgentService['createEnrollmentToken']> { return this.agents.createEnrollmentToken(body); }
  revokeEnrollmentToken(id: string): EnrollmentTokenView { return this.agents.revokeEnrollmentToken(id); }

  // Tasks
  listTasks(): Task[] { return this.tasks.listTasks(); }
  getTask(id: string): Task { return this.tasks.getTask(id); }
  createTask(body: unknown): Task { return this.tasks.createTask(body); }
  updateTask(id: string, body: unknown): Task { return this.tasks.updateTask(id, body); }
  deleteTask(id: string): void { this.tasks.deleteTask(id); }

  // Jobs
  listJobs(): Job[] { return this.jobs.listJobs(); }
  getJob(id: string): Job { return this.jobs.getJob(id); }
  createJob(body: unknown): Job { return this.jobs.createJob(body); }
  updateJob(id: string, body: unknown): Job { return this.jobs.updateJob(id, body); }
  deleteJob(id: string): void { this.jobs.deleteJob(id); }
  jobsOverview(): JobOverview[] { return this.jobs.jobsOverview(); }
  duplicateJob(id: string): Job { return this.jobs.duplicateJob(id); }
  updateJobs(body: unknown): Job[] { return this.jobs.updateJobs(body); }
  exportJobs(body: unknown): JobDocument { return this.jobs.exportJobs(body); }
  importJobs(body: unknown): Job[] { return this.jobs.importJobs(body); }
  previewSchedule(body: unknown): Date[] { return this.jobs.previewSchedule(body); }

  // Runs
  runJob(id: string): Promise<Run> { return this.runs.runJob(id); }
  runTask(id: string, body: unknown): Promise<Run> { return this.runs.runTask(id, body); }
  listRuns(query: unknown): Run[] { return this.runs.listRuns(query); }
  getRun(id: string): Run { return this.runs.getRun(id); }
  activeRuns(): Run[] { return this.runs.activeRuns(); }
  cancelRun(id: string): Run { return this.runs.cancelRun(id); }
  readLog(id: string): AsyncIterable<StoredLogLine> { return this.runs.readLog(id); }
  readRecords(id: string): AsyncIterable<Json> { return this.runs.readRecords(id); }

  // Hub, settings, templates
  info(): HubInfo { return this.hub.info(); }
  rotateCertificate(): Promise<CertificateRotation> { return this.hub.rotateCertificate(); }
  summary(): HubSummary { return this.hub.summary(); }
  getSettings(): Settings { return withoutAlertUrl(this.hub.getSettings()); }
  updateSettings(body: unknown): Settings { return withoutAlertUrl(this.hub.updateSettings(body)); }
  listTemplates(): Promise<TaskTemplate[]> { return this.hub.listTemplates(); }

  // Network settings and failure alerts
  getNetwork(): NetworkView { return this.settings.getNetwork(); }
  updateNetwork(body: unknown): NetworkView { return this.settings.updateNetwork(body); }
  getAlerts(): AlertSettingsView { return this.settings.getAlerts(); }
  updateAlerts(body: unknown): AlertSettingsView { return this.settings.updateAlerts(body); }
  testAlert(body: unknown): Promise<AlertDelivery> { return this.settings.testAlert(body); }
}

/** Drops the alert settings, whose sealed webhook URL only the alert methods show, and then only masked. */
function withoutAlertUrl(settings: Settings): Settings {
  const { alerts: _alerts, ...rest } = settings as Settings & { alerts?: unknown };
  return rest as Settings;
}
