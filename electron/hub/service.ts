/**
 * Operations the hub offers its callers, with every input validated. The HTTP API
 * and the /ui namespace are thin layers over this one class, so both apply
 * the same rules and return the same errors.
 */
import { randomUUID } from 'node:crypto';
import { z, type ZodType } from 'zod';
import { jsonObject } from 'farmboy-agent/protocol';
import { compileTask } from './compile.js';
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

export interface ServiceDeps {
  store: Store;
  fleet: Fleet;
  runs: RunManager;
  scheduler: Scheduler;
  gateway: AgentGateway;
  /** Called after a definition changes, so the UI can be notified. */
  onChanged(kind: 'task' | 'job' | 'agent', id: string): void;
}

/** Parses an input with a schema, turning the first issue into a 400 naming the field. */
export function parseInput<T>(schema: ZodType<T>, input: unknown): T {
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

const adHocRunSchema = z.object({
  config: jsonObject.default({}),
  tags: z.array(z.string().min(1).max(64)).max(32).default([]),
});

export class HubService {
  constructor(private readonly deps: ServiceDeps) {}

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
    const job: Job = { id: randomUUID(), ...input, createdAt: now, updatedAt: now };
    this.deps.store.state.jobs.push(job);
    this.deps.store.save();
    this.deps.scheduler.upsert(job);
    this.deps.onChanged('job', job.id);
    return job;
  }

  updateJob(id: string, body: unknown): Job {
    const job = this.getJob(id);
    const patch = parseInput(jobPatchSchema, body);
    const updated: Job = { ...job, ...definedOnly(patch), updatedAt: Date.now() };
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

  private replace<T extends { id: string }>(list: T[], item: T): void {
    const index = list.findIndex((entry) => entry.id === item.id);
    if (index >= 0) list[index] = item;
  }
}

function definedOnly<T extends object>(patch: T): Partial<T> {
  return Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined)) as Partial<T>;
}
