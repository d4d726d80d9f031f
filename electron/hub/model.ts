/**
 * The hub's domain model: tasks, jobs, runs and agents, with the schemas that
 * the HTTP API and the /ui namespace apply to their inputs. Pure zod and
 * types, so the renderer can import it to validate forms with the same rules.
 */
import { z } from 'zod';
import { jsonObject, runtimeSchema, type Json, type LogStream, type MachineFacts, type Runtime } from 'farmboy-agent/protocol';

export type { Json, Runtime };

/**
 * The schema of a partial update: every field optional and, unlike zod's
 * `.partial()`, no defaults filled in, so a patch never resets a field it
 * does not name.
 */
function patchOf<Shape extends z.ZodRawShape>(schema: z.ZodObject<Shape>) {
  const fields = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [
      key,
      ((field instanceof z.ZodDefault ? field.removeDefault() : field) as z.ZodType).optional(),
    ]),
  );
  return z.object(fields) as unknown as z.ZodType<Partial<z.infer<z.ZodObject<Shape>>>>;
}

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const tag = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -');

// ---------------------------------------------------------------------------
// Tasks

export const taskInputSchema = z.object({
  name,
  runtime: runtimeSchema,
  source: z.string().max(512 * 1024, 'must be at most 512 KiB'),
  defaultConfig: jsonObject.default({}),
});
export type TaskInput = z.infer<typeof taskInputSchema>;
export const taskPatchSchema = patchOf(taskInputSchema);
export type TaskPatch = z.infer<typeof taskPatchSchema>;

/** One compile diagnostic, 1-based line and column. */
export interface CompileDiagnostic {
  line: number;
  column: number;
  message: string;
}

export interface Task {
  id: string;
  name: string;
  runtime: Runtime;
  source: string;
  defaultConfig: Record<string, Json>;
  /** Increases on every save. */
  version: number;
  /** What the agent runs: the script itself for shell, one ES module for node. */
  code: string;
  /** SHA-256 of `code`, hex. */
  hash: string;
  createdAt: number;
  updatedAt: number;
}

// ---------------------------------------------------------------------------
// Jobs

export const overlapPolicySchema = z.enum(['skip', 'queue', 'parallel']);
export type OverlapPolicy = z.infer<typeof overlapPolicySchema>;

export const catchUpPolicySchema = z.enum(['none', 'once']);
export type CatchUpPolicy = z.infer<typeof catchUpPolicySchema>;

export const scheduleSchema = z.object({
  cron: z.string().trim().min(1, 'must not be empty').max(200),
  timezone: z.string().trim().min(1).max(64).default('UTC'),
});
export type Schedule = z.infer<typeof scheduleSchema>;

export const jobInputSchema = z.object({
  name,
  taskId: z.string().min(1, 'must not be empty'),
  config: jsonObject.default({}),
  schedule: scheduleSchema.nullable().default(null),
  enabled: z.boolean().default(true),
  tags: z.array(tag).max(32).default([]),
  timeoutSec: z.number().positive().max(7 * 24 * 3600).nullable().default(null),
  retries: z.number().int().min(0).max(100).default(0),
  retryDelaySec: z.number().min(0).max(24 * 3600).default(10),
  overlap: overlapPolicySchema.default('skip'),
  maxParallel: z.number().int().min(1).max(1000).default(1),
  catchUp: catchUpPolicySchema.default('none'),
  env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name'), z.string()).default({}),
  /** Keys of `env` whose values are secret: stored encrypted, returned only encrypted, masked in output. */
  secretEnv: z.array(z.string().min(1).max(256)).max(256).optional(),
});
export type JobInput = z.infer<typeof jobInputSchema>;
export const jobPatchSchema = patchOf(jobInputSchema);
export type JobPatch = z.infer<typeof jobPatchSchema>;

export interface Job extends JobInput {
  id: string;
  createdAt: number;
  updatedAt: number;
}

// ---------------------------------------------------------------------------
// Runs

export const FINAL_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'] as const;
export const runStatusSchema = z.enum(['queued', 'assigned', 'running', ...FINAL_STATUSES]);
export type RunStatus = z.infer<typeof runStatusSchema>;
export type FinalStatus = (typeof FINAL_STATUSES)[number];

export function isFinal(status: RunStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export type RunTrigger = 'schedule' | 'manual' | 'catch_up';

export interface RunProgress {
  percent: number;
  message: string | null;
}

export interface Run {
  id: string;
  jobId: string | null;
  jobName: string | null;
  taskId: string;
  taskVersion: number;
  trigger: RunTrigger;
  /** Config the task receives: the job's config merged over the task's default, fixed when the run is queued. */
  config: Record<string, Json>;
  /** Tags an agent must carry, for ad-hoc runs; job runs use the job's current tags. */
  tags: string[];
  timeoutSec: number | null;
  retryDelaySec: number;
  status: RunStatus;
  attempt: number;
  /** Attempts allowed in all (the first plus the retries), fixed when the run was queued. */
  maxAttempts: number;
  agentId: string | null;
  /** Agents of earlier attempts, avoided by retries where another agent can take it. */
  previousAgentIds: string[];
  exitCode: number | null;
  signal: string | null;
  error: string | null;
  progress: RunProgress | null;
  result: Json | null;
  /** Reason a queued run is not placed yet; null once it is. */
  waitingReason: string | null;
  /** Earliest time a queued retry may be placed. */
  notBefore: number | null;
  /** Set while the run's agent is disconnected; the run is lost if it stays so past the grace period. */
  agentOfflineSince: number | null;
  /** Set when a user asked to cancel a run an agent holds; the agent confirms with a final status. */
  cancelRequestedAt: number | null;
  queuedAt: number;
  startedAt: number | null;
  finishedAt: number | null;
  /** Highest event sequence number applied for the current attempt. */
  lastSeq: number;
  logLines: number;
  logBytes: number;
  logTruncated: boolean;
  recordCount: number;
}

export const runFilterSchema = z.object({
  jobId: z.string().min(1).optional(),
  status: runStatusSchema.optional(),
  agentId: z.string().min(1).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  /** Return runs queued strictly before this run id's position (pagination). */
  before: z.string().min(1).optional(),
  /** Only runs queued at or after this time, in ms since the epoch. */
  from: z.coerce.number().int().nonnegative().optional(),
  /** Only runs queued before this time, in ms since the epoch. */
  to: z.coerce.number().int().nonnegative().optional(),
});
export type RunFilter = z.infer<typeof runFilterSchema>;

export interface StoredLogLine {
  t: number;
  s: LogStream;
  m: string;
}

// ---------------------------------------------------------------------------
// Agents

export type AgentStatus = 'online' | 'offline' | 'draining';

export interface AgentRecord {
  id: string;
  name: string;
  tags: string[];
  slots: number;
  maxLoad: number | null;
  facts: MachineFacts | null;
  version: string;
  firstSeenAt: number;
  lastSeenAt: number;
  draining: boolean;
}

export interface AgentView extends AgentRecord {
  status: AgentStatus;
  running: number;
  load: number | null;
  cpu: number | null;
  freeMemoryBytes: number | null;
}
