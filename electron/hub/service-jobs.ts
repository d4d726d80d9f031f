/** Operations on jobs: editing, bulk changes, export and import, schedule previews. */
import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import { SecretBox } from './secrets.js';
import { HubError, invalid, notFound } from './errors.js';
import { jobInputSchema, jobPatchSchema, type Job, type Run, type Task } from './model.js';
import { checkSchedule } from './scheduler/index.js';
import { copyName, exportJobs, jobDocumentSchema, resolveImport, type JobDocument } from './job-transfer.js';
import { definedOnly, parseInput, replaceById, type ServiceDeps } from './service-common.js';

export interface JobOverview {
  jobId: string;
  /** ISO time of the next scheduled fire. */
  nextFireAt: string | null;
  lastRun: Pick<Run, 'id' | 'status' | 'queuedAt' | 'finishedAt'> | null;
}

const previewSchema = z.object({
  cron: z.string(),
  timezone: z.string().default('UTC'),
  count: z.number().int().min(1).max(100).default(5),
});

const idListSchema = z.array(z.string().min(1).max(128)).min(1, 'must name at least one job').max(5_000);
const bulkUpdateSchema = z.object({ ids: idListSchema, patch: jobPatchSchema });
const exportSchema = z.object({ ids: idListSchema.optional() });

export class JobService {
  constructor(private readonly deps: ServiceDeps) {}

  /** Seals secret environment values of jobs before they are stored. */
  private get secrets(): SecretBox {
    return SecretBox.forDataDir(this.deps.store.dataDir);
  }

  private get tasks(): Task[] {
    return this.deps.store.state.tasks;
  }

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
    replaceById(this.deps.store.state.jobs, updated);
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

  private checkJob(job: Pick<Job, 'taskId' | 'schedule' | 'env' | 'secretEnv'>): void {
    if (!this.tasks.some((task) => task.id === job.taskId)) {
      throw invalid('taskId', `no task with id ${job.taskId}`);
    }
    // A key marked secret but not set would leave the value it was meant for unmasked, under another name.
    for (const [index, key] of (job.secretEnv ?? []).entries()) {
      if (!Object.hasOwn(job.env, key)) throw invalid(`secretEnv.${index}`, `names ${key}, which env does not set; add ${key} to env or remove it from secretEnv`);
    }
    const [unreadable] = this.secrets.unreadable(job.env);
    if (unreadable !== undefined) {
      throw invalid(`env.${unreadable}`, 'this secret was encrypted by another hub or with a key this hub no longer has, so it cannot be read here; enter its value again');
    }
    if (job.schedule) {
      const check = checkSchedule(job.schedule, { count: 1 });
      if (!check.ok) throw invalid(`schedule.${check.field}`, check.reason);
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
    const job = this.getJob(id);
    // Only the input fields: a stored job may carry fields of its own that the strict input schema refuses.
    const input = Object.fromEntries(Object.keys(jobInputSchema.shape).filter((key) => key in job).map((key) => [key, job[key as keyof Job]]));
    return this.createJob({ ...input, name: copyName(job.name), enabled: false });
  }

  /** Applies one patch to several jobs. Every job is checked first, so either all change or none does. */
  updateJobs(body: unknown): Job[] {
    const { ids, patch } = parseInput(bulkUpdateSchema, body);
    const changes = definedOnly(patch);
    const now = Date.now();
    const updated = ids.map((id, index) => {
      const job: Job = this.secrets.sealJob({ ...this.findJob(id, `ids.${index}`), ...changes, updatedAt: now });
      try {
        this.checkJob(job);
      } catch (error: unknown) {
        // The patch is the same for every job, so the job it fails on is what the caller needs to know.
        if (error instanceof HubError && error.code === 'invalid') throw invalid(`ids.${index}.${error.field ?? 'patch'}`, `job ${id}: ${error.message}`);
        throw error;
      }
      return job;
    });
    for (const job of updated) {
      replaceById(this.deps.store.state.jobs, job);
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
    return exportJobs(jobs, this.tasks, new Date());
  }

  /** Creates the jobs of an exported document as new jobs; checks all of them before creating any. */
  importJobs(body: unknown): Job[] {
    const inputs = resolveImport(parseInput(jobDocumentSchema, body), this.tasks);
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
    if (!check.ok) throw invalid(check.field, check.reason);
    return check.next;
  }
}
