/**
 * Operations the hub offers its callers, with every input validated. The HTTP API
 * and the /ui namespace are thin layers over this one class, so both apply
 * the same rules and return the same errors.
 */
import { randomUUID } from 'node:crypto';
import { z, type ZodType } from 'zod';
import { LIMITS, exceedsDepth, jsonObject } from 'farmboy-agent/protocol';
import { compileTask } from './compile.js';
import { SecretBox } from './secrets.js';
import { HubError, invalid, notFound } from './errors.js';
import type { Fleet } from './fleet.js';
import type { AgentGateway } from './agent-gateway.js';
import {
  jobInputSchema,
  jobPatchSchema,
  runFilterSchema,
  taskInputSchema,
  taskPatchSchema,
  type AgentView,
  type Job,
  type Json,
  type Run,
  type StoredLogLine,
  type Task,
} from './model.js';
import type { RunManager } from './runs.js';
import { checkSchedule, type Scheduler } from './scheduler/index.js';
import type { Store } from './store/index.js';
import type { Settings } from './store/schema.js';
import { addEnrollmentToken, joinCommand, revokeEnrollmentToken, tokenCreateSchema, tokenView, type EnrollmentTokenView } from './enrollment.js';
import { copyName, exportJobs, jobDocumentSchema, resolveImport, type JobDocument } from './job-transfer.js';
import { settingsPatchSchema } from './settings.js';
import { listTemplates, type TaskTemplate } from './templates.js';
import type { Logger } from './logger.js';

export interface ServiceDeps {
  store: Store;
  fleet: Fleet;
  runs: RunManager;
  scheduler: Scheduler;
  gateway: AgentGateway;
  /** Called after a definition changes, so the UI can be notified. */
  onChanged(kind: 'task' | 'job' | 'agent', id: string): void;
  /** Addresses and the enrollment token in clear, known only once the hub listens. */
  info(): HubAddresses;
  /** Folder of the task templates. */
  templatesDir: string;
  log: Logger;
}

export interface HubAddresses {
  version: string;
  uiUrl: string;
  /** Address of the agent port as other machines reach it. */
  agentJoinUrl: string;
  /** Certificate fingerprint agents pin (`sha256:HEX`); null when the agent port is plain HTTP. */
  fingerprint: string | null;
  /** The default enrollment token, when the hub has it in clear. */
  agentToken: string | null;
}

/** What the status bar and the Add agent dialog show. */
export interface HubInfo {
  version: string;
  uiUrl: string;
  agentJoinUrl: string;
  /** Certificate fingerprint agents pin (`sha256:HEX`); null when the agent port runs without TLS. */
  fingerprint: string | null;
  /** Ready to paste on a worker machine; null when no token is known in clear. */
  joinCommand: string | null;
}

/** Outcome of a certificate rotation: the new fingerprint, and how many connected agents moved their pin to it. */
export interface CertificateRotation {
  fingerprint: string;
  agents: number;
  accepted: number;
}

/** The join command for a new agent and its parts, for GET /api/agents/join. */
export interface AgentJoin {
  /** Null when the hub keeps no enrollment token in clear; create one to get a command. */
  command: string | null;
  url: string;
  token: string | null;
  fingerprint: string | null;
}

export interface JobOverview {
  jobId: string;
  /** ISO time of the next scheduled fire. */
  nextFireAt: string | null;
  lastRun: Pick<Run, 'id' | 'status' | 'queuedAt' | 'finishedAt'> | null;
}

export interface HubSummary {
  running: number;
  queued: number;
  agentsOnline: number;
  agentsTotal: number;
}

/** Parses an input with a schema, turning the first issue into a 400 naming the field. */
export function parseInput<T>(schema: ZodType<T>, input: unknown): T {
  // Checked first: zod and the store's JSON writer recurse, and a deep enough value overflows their stack.
  const maxDepth = LIMITS.maxJsonDepth + 2;
  if (exceedsDepth(input, maxDepth)) throw invalid('body', `nested deeper than ${maxDepth} levels`);
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = issue && issue.path.length > 0 ? issue.path.join('.') : 'body';
  throw invalid(field, issue?.message ?? 'invalid value');
}

const previewSchema = z.object({
  cron: z.string(),
  timezone: z.string().default('UTC'),
  count: z.number().int().min(1).max(100).default(5),
});

const idListSchema = z.array(z.string().min(1).max(128)).min(1, 'must name at least one job').max(5_000);
const bulkUpdateSchema = z.object({ ids: idListSchema, patch: jobPatchSchema });
const exportSchema = z.object({ ids: idListSchema.optional() });

const adHocRunSchema = z.object({
  config: jsonObject.default({}),
  tags: z.array(z.string().min(1).max(64)).max(32).default([]),
});

export class HubService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Seals secret environment values of jobs before they are stored. */
  private get secrets(): SecretBox {
    return SecretBox.forDataDir(this.deps.store.dataDir);
  }

  // -------------------------------------------------------------------------
  // Agents

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

  // -------------------------------------------------------------------------
  // Tasks

  listTasks(): Task[] {
    return this.deps.store.state.tasks;
  }

  getTask(id: string): Task {
    const task = this.deps.store.state.tasks.find((entry) => entry.id === id);
    if (!task) throw notFound('task', id);
    return task;
  }

  createTask(body: unknown): Task {
    const input = parseInput(taskInputSchema, body);
    const compiled = this.compile(input.source, input.runtime);
    const now = Date.now();
    const task: Task = { id: randomUUID(), ...input, version: 1, ...compiled, createdAt: now, updatedAt: now };
    this.deps.store.state.tasks.push(task);
    this.deps.store.save();
    this.deps.onChanged('task', task.id);
    return task;
  }

  updateTask(id: string, body: unknown): Task {
    const task = this.getTask(id);
    const patch = parseInput(taskPatchSchema, body);
    const merged = { ...task, ...definedOnly(patch) };
    const compiled = this.compile(merged.source, merged.runtime);
    const updated: Task = { ...merged, ...compiled, version: task.version + 1, updatedAt: Date.now() };
    this.replace(this.deps.store.state.tasks, updated);
    this.deps.store.save();
    this.deps.onChanged('task', id);
    return updated;
  }

  deleteTask(id: string): void {
    this.getTask(id);
    const users = this.deps.store.state.jobs.filter((job) => job.taskId === id);
    if (users.length > 0) {
      const names = users.slice(0, 5).map((job) => job.name).join(', ');
      throw new HubError('conflict', `task ${id} is used by ${users.length} job(s): ${names}. Delete or change those jobs first.`);
    }
    this.deps.store.state.tasks = this.deps.store.state.tasks.filter((task) => task.id !== id);
    this.deps.store.save();
    this.deps.onChanged('task', id);
  }

  private compile(source: string, runtime: Task['runtime']): { code: string; hash: string } {
    const result = compileTask(source, runtime);
    if (result.ok) return { code: result.code, hash: result.hash };
    const first = result.diagnostics[0];
    const where = first ? `line ${first.line}, column ${first.column}: ${first.message}` : 'unknown error';
    const error = new HubError('invalid', `source: does not compile (${result.diagnostics.length} error(s)); ${where}`, 'source');
    error.details = { diagnostics: result.diagnostics };
    throw error;
  }

  // -------------------------------------------------------------------------
  // Jobs

  listJobs(): Job[] {
    return this.deps.store.state.jobs;
  }

  getJob(id: string): Job {
    const job = this.deps.store.state.jobs.find((entry) => entry.id === id);
    if (!job) throw notFound('job', id);
    return job;
  }

  createJob(body: unknown): Job {
    const input = parseInput(jobInputSchema, body);
    this.checkJob(input);
    const now = Date.now();
    const job: Job = this.secrets.sealJob({ id: randomUUID(), ...input, createdAt: now, updatedAt: now });
    this.deps.store.state.jobs.push(job);
    this.deps.store.save();
    this.deps.scheduler.upsert(job);
    this.deps.onChanged('job', job.id);
    return job;
  }

  updateJob(id: string, body: unknown): Job {
    const job = this.getJob(id);
    const patch = parseInput(jobPatchSchema, body);
    const updated: Job = this.secrets.sealJob({ ...job, ...definedOnly(patch), updatedAt: Date.now() });
    this.checkJob(updated);
    this.replace(this.deps.store.state.jobs, updated);
    this.deps.store.save();
    this.deps.scheduler.upsert(updated);
    this.deps.onChanged('job', id);
    this.deps.runs.dispatchSoon();
    return updated;
  }

  deleteJob(id: string): void {
    this.getJob(id);
    this.deps.scheduler.remove(id);
    const now = Date.now();
    for (const run of this.deps.runs.activeForJob(id)) {
      if (run.status === 'queued') this.deps.runs.cancel(run.id, now);
    }
    this.deps.store.state.jobs = this.deps.store.state.jobs.filter((job) => job.id !== id);
    this.deps.store.save();
    this.deps.onChanged('job', id);
  }

  private checkJob(job: Pick<Job, 'taskId' | 'schedule'>): void {
    if (!this.deps.store.state.tasks.some((task) => task.id === job.taskId)) {
      throw invalid('taskId', `no task with id ${job.taskId}`);
    }
    if (job.schedule) {
      const check = checkSchedule(job.schedule, { count: 1 });
      if (!check.ok) throw invalid('schedule.cron', check.reason);
    }
  }

  /** For each job, its next fire time (null when manual, disabled or never firing) and its newest run. */
  jobsOverview(): JobOverview[] {
    const now = new Date();
    return this.listJobs().map((job) => {
      const check = job.enabled && job.schedule ? checkSchedule(job.schedule, { count: 1, from: now }) : null;
      const latest = this.deps.store.runs.latestForJob(job.id);
      const lastRun = latest ? { id: latest.id, status: latest.status, queuedAt: latest.queuedAt, finishedAt: latest.finishedAt } : null;
      return { jobId: job.id, nextFireAt: check?.ok ? (check.next[0]?.toISOString() ?? null) : null, lastRun };
    });
  }

  /** Copies a job under a new name. The copy starts disabled, so it never fires twice alongside the original before it is edited. */
  duplicateJob(id: string): Job {
    const { id: _id, createdAt: _created, updatedAt: _updated, ...input } = this.getJob(id);
    return this.createJob({ ...input, name: copyName(input.name), enabled: false });
  }

  /** Applies one patch to several jobs. Every job is checked first, so either all change or none does. */
  updateJobs(body: unknown): Job[] {
    const { ids, patch } = parseInput(bulkUpdateSchema, body);
    const changes = definedOnly(patch);
    const now = Date.now();
    const updated = ids.map((id, index) => {
      const job: Job = this.secrets.sealJob({ ...this.findJob(id, `ids.${index}`), ...changes, updatedAt: now });
      this.checkJob(job);
      return job;
    });
    for (const job of updated) {
      this.replace(this.deps.store.state.jobs, job);
      this.deps.scheduler.upsert(job);
      this.deps.onChanged('job', job.id);
    }
    this.deps.store.save();
    this.deps.runs.dispatchSoon();
    return updated;
  }

  exportJobs(body: unknown): JobDocument {
    const { ids } = parseInput(exportSchema, body ?? {});
    const jobs = ids ? ids.map((id, index) => this.findJob(id, `ids.${index}`)) : this.listJobs();
    return exportJobs(jobs, this.listTasks(), new Date());
  }

  /** Creates the jobs of an exported document as new jobs; checks all of them before creating any. */
  importJobs(body: unknown): Job[] {
    const inputs = resolveImport(parseInput(jobDocumentSchema, body), this.listTasks());
    inputs.forEach((input, index) => {
      try {
        this.checkJob(input);
      } catch (error) {
        if (error instanceof HubError && error.field) throw invalid(`jobs.${index}.${error.field}`, error.message.replace(`${error.field}: `, ''));
        throw error;
      }
    });
    return inputs.map((input) => this.createJob(input));
  }

  private findJob(id: string, field: string): Job {
    const job = this.deps.store.state.jobs.find((entry) => entry.id === id);
    if (!job) throw invalid(field, `no job with id ${id}`);
    return job;
  }

  /** Computes the next fire times of a schedule, for previews in the job editor. */
  previewSchedule(body: unknown): Date[] {
    const { count, ...schedule } = parseInput(previewSchema, body);
    const check = checkSchedule(schedule, { count });
    if (!check.ok) throw invalid('cron', check.reason);
    return check.next;
  }

  // -------------------------------------------------------------------------
  // Runs

  runJob(id: string): Run {
    const job = this.getJob(id);
    return this.deps.runs.enqueueJob(job, this.getTask(job.taskId), 'manual', Date.now());
  }

  runTask(id: string, body: unknown): Run {
    const task = this.getTask(id);
    const input = parseInput(adHocRunSchema, body ?? {});
    return this.deps.runs.enqueueTask(task, input.config, input.tags, Date.now());
  }

  listRuns(query: unknown): Run[] {
    return this.deps.store.runs.list(parseInput(runFilterSchema, query));
  }

  getRun(id: string): Run {
    const run = this.deps.runs.get(id);
    if (!run) throw notFound('run', id);
    return run;
  }

  /** Runs that are not final, newest queued first. */
  activeRuns(): Run[] {
    return this.deps.runs.activeRuns().sort((a, b) => b.queuedAt - a.queuedAt);
  }

  cancelRun(id: string): Run {
    this.getRun(id);
    return this.deps.runs.cancel(id, Date.now()) ?? this.getRun(id);
  }

  readLog(id: string): AsyncIterable<StoredLogLine> {
    this.getRun(id);
    return this.deps.store.logs.readLog(id);
  }

  readRecords(id: string): AsyncIterable<Json> {
    this.getRun(id);
    return this.deps.store.logs.readRecords(id);
  }

  // -------------------------------------------------------------------------
  // Hub, settings, enrollment tokens, templates

  info(): HubInfo {
    const { version, uiUrl, agentJoinUrl, fingerprint, agentToken } = this.deps.info();
    return { version, uiUrl, agentJoinUrl, fingerprint, joinCommand: agentToken ? joinCommand(agentJoinUrl, agentToken, fingerprint) : null };
  }

  /** Replaces the agent port's certificate; connected agents move their pin first (see AgentGateway.rotateCertificate). */
  rotateCertificate(): Promise<CertificateRotation> {
    return this.deps.gateway.rotateCertificate();
  }

  agentJoin(): AgentJoin {
    const { agentJoinUrl, fingerprint, agentToken } = this.deps.info();
    const command = agentToken ? joinCommand(agentJoinUrl, agentToken, fingerprint) : null;
    return { command, url: agentJoinUrl, token: agentToken, fingerprint };
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

  listTemplates(): Promise<TaskTemplate[]> {
    return listTemplates(this.deps.templatesDir, this.deps.log);
  }

  private replace<T extends { id: string }>(list: T[], item: T): void {
    const index = list.findIndex((entry) => entry.id === item.id);
    if (index >= 0) list[index] = item;
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
