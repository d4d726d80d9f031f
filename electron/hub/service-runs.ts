/** Operations on runs: starting jobs and tasks by hand, listing, cancelling, reading output. */
import { z } from 'zod';
import { jsonObject } from 'farmboy-agent/protocol';
import { HubError, invalid, notFound } from './errors.js';
import { errorText } from './store/errors.js';
import { runFilterSchema, tagListSchema, type Job, type Json, type Run, type StoredLogLine, type Task } from './model.js';
import { parseInput, type ServiceDeps } from './service-common.js';

const adHocRunSchema = z.object({
  config: jsonObject.default({}),
  tags: tagListSchema.default([]),
  /** Pins the run to this agent; absent or null lets any eligible agent take it. */
  agentId: z.string().min(1).max(128).nullable().default(null),
});

/** Lookups the run operations need from the job and task services. */
export interface DefinitionLookup {
  getJob(id: string): Job;
  getTask(id: string): Task;
}

export class RunService {
  constructor(
    private readonly deps: ServiceDeps,
    private readonly definitions: DefinitionLookup,
  ) {}

  /** Queues a run of a job; resolves once its record is on disk (see `stored`). */
  runJob(id: string): Promise<Run> {
    const job = this.definitions.getJob(id);
    return this.stored(this.deps.runs.enqueueJob(job, this.definitions.getTask(job.taskId), 'manual', Date.now()));
  }

  runTask(id: string, body: unknown): Promise<Run> {
    const task = this.definitions.getTask(id);
    const input = parseInput(adHocRunSchema, body ?? {});
    if (input.agentId !== null && !this.deps.fleet.get(input.agentId)) throw invalid('agentId', `no agent with id ${input.agentId}`);
    return this.stored(this.deps.runs.enqueueTask(task, input.config, input.tags, Date.now(), input.agentId));
  }

  /**
   * Resolves with the queued run once its record is on disk, so a caller that got
   * the run back still finds it after a hub crash. The run goes to an
   * agent meanwhile: the write costs the caller an fdatasync, not the run.
   * Requests that arrive together share one write.
   */
  private async stored(run: Run): Promise<Run> {
    try {
      await this.deps.store.persist([]);
    } catch (error: unknown) {
      throw new HubError('unavailable', `run ${run.id} is queued, but its record could not be written to disk, so a hub restart would lose it: ${errorText(error)}`);
    }
    return run;
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
}
