/** Operations on runs: starting jobs and tasks by hand, listing, cancelling, reading output. */
import { z } from 'zod';
import { jsonObject } from 'farmboy-agent/protocol';
import { invalid, notFound } from './errors.js';
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

  runJob(id: string): Run {
    const job = this.definitions.getJob(id);
    return this.deps.runs.enqueueJob(job, this.definitions.getTask(job.taskId), 'manual', Date.now());
  }

  runTask(id: string, body: unknown): Run {
    const task = this.definitions.getTask(id);
    const input = parseInput(adHocRunSchema, body ?? {});
    if (input.agentId !== null && !this.deps.fleet.get(input.agentId)) throw invalid('agentId', `no agent with id ${input.agentId}`);
    return this.deps.runs.enqueueTask(task, input.config, input.tags, Date.now(), input.agentId);
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
