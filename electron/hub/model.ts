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
  return z.strictObject(fields) as unknown as z.ZodType<Partial<z.infer<z.ZodObject<Shape>>>>;
}

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const tag = z.string().trim().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'may contain only letters, digits and _ . : -');

/** Rejects a list that names an entry twice: a repeat is more likely a typo for another entry than meant. */
function noRepeats(entryKind: string) {
  return (values: readonly string[], ctx: z.RefinementCtx) => {
    const seen = new Set<string>();
    for (const [index, value] of values.entries()) {
      if (seen.has(value)) ctx.addIssue({ code: 'custom', path: [index], message: `repeats the ${entryKind} ${value}` });
      seen.add(value);
    }
  };
}

export const tagListSchema = z.array(tag).max(32).superRefine(noRepeats('tag'));

// ---------------------------------------------------------------------------
// Tasks

// Strict: a misspelt field ("timeout" for timeoutSec) is an error, never silently dropped.
export const taskInputSchema = z.strictObject({
  name,
  runtime: runtimeSchema,
  source: z.string().max(512 * 1024, 'must be at most 512 KiB'),
  defaultConfig: jsonObject.default({}),
});
export type TaskInput = z.infer<typeof taskInputSchema>;
/**
 * A task's changes. `expectedVersion`, when given, is the version the
 * change was made from: a task saved since then is not overwritten.
 */
export const taskPatchSchema = patchOf(taskInputSchema.extend({ expectedVersion: z.number().int().positive() }));
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

/**
 * Linux starts no process whose single `KEY=value` string passes 128 KiB,
 * and the whole environment shares the argument space with the agent's own
 * variables. Checked at save, a job that could never start its task is
 * rejected with the variable's name instead of failing every run.
 */
const ENV_ENTRY_MAX_BYTES = 128 * 1024 - 1;
const ENV_TOTAL_MAX_BYTES = 256 * 1024;
// The renderer validates with these schemas too, so no Buffer here.
const utf8 = new TextEncoder();

const envSchema = z
  .record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be a valid environment variable name'), z.string())
  .superRefine((env, ctx) => {
    let total = 0;
    for (const [key, value] of Object.entries(env)) {
      const bytes = utf8.encode(`${key}=${value}`).length + 1;
      total += bytes;
      if (bytes > ENV_ENTRY_MAX_BYTES) ctx.addIssue({ code: 'custom', path: [key], message: `is ${bytes} bytes; the operating system starts no process with a variable over ${ENV_ENTRY_MAX_BYTES} bytes` });
    }
    if (total > ENV_TOTAL_MAX_BYTES) ctx.addIssue({ code: 'custom', message: `variables take ${total} bytes in all; at most ${ENV_TOTAL_MAX_BYTES} fit beside the agent's own environment` });
  });

export const jobInputSchema = z.strictObject({
  name,
  taskId: z.string().min(1, 'must not be empty'),
  config: jsonObject.default({}),
  schedule: scheduleSchema.nullable().default(null),
  enabled: z.boolean().default(true),
  tags: tagListSchema.default([]),
  timeoutSec: z.number().positive().max(7 * 24 * 3600).nullable().default(null),
  retries: z.number().int().min(0).max(100).default(0),
  retryDelaySec: z.number().min(0).max(24 * 3600).default(10),
  overlap: overlapPolicySchema.default('skip'),
  maxParallel: z.number().int().min(1).max(1000).default(1),
  catchUp: catchUpPolicySchema.default('none'),
  env: envSchema.default({}),
  /** Keys of `env` whose values are secret: stored encrypted, returned only encrypted, masked in output. */
  secretEnv: z.array(z.string().min(1).max(256)).max(256).superRefine(noRepeats('key')).optional(),
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

/**
 * Final statuses of a scheduled fire that never reached an agent: `missed`
 * (the hub was down or asleep and the job's catch-up policy is `none`) and
 * `skipped` (the overlap policy kept it from starting). Such a run is stored
 * final at once; it is never retried and is no failure.
 */
export const UNRUN_STATUSES = ['missed', 'skipped'] as const;
export const FINAL_STATUSES = ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost', ...UNRUN_STATUSES] as const;
export const runStatusSchema = z.enum(['queued', 'assigned', 'running', ...FINAL_STATUSES]);
export type RunStatus = z.infer<typeof runStatusSchema>;
export type FinalStatus = (typeof FINAL_STATUSES)[number];
export type UnrunStatus = (typeof UNRUN_STATUSES)[number];

export function isUnrun(status: RunStatus): status is UnrunStatus {
  return (UNRUN_STATUSES as readonly string[]).includes(status);
}

export function isFinal(status: RunStatus): status is FinalStatus {
  return (FINAL_STATUSES as readonly string[]).includes(status);
}

export type RunTrigger = 'schedule' | 'manual' | 'catch_up';

export interface RunProgress {
  percent: number;
  message: string | null;
}

/** Scheduled fire instants that one history entry stands for, in ms since the epoch. */
export interface FireWindow {
  count: number;
  first: number;
  last: number;
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
  /** Agent every attempt must run on, chosen for a test run; absent or null when any eligible agent may take it. */
  pinnedAgentId?: string | null;
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
  /**
   * The fires a `missed` or `skipped` entry records, or the missed fires a
   * catch-up run replaced. Absent on other runs and on runs stored before
   * the field existed.
   */
  fires?: FireWindow;
  /** Reason the overlap policy skipped the fires of a `skipped` entry. */
  skipReason?: string;
  /** The active run of the job that a `skipped` entry's fires would have overlapped. */
  overlappedRunId?: string | null;
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

/** Reason and end of the back-off that leaves an agent out of placement after its runs failed to start. */
export interface AgentUnhealthy {
  /** In words, such as "3 runs failed to start: could not start the task: ENOSPC: ...". */
  reason: string;
  /** Epoch ms at which the agent takes runs again. */
  until: number;
}

export interface AgentView extends AgentRecord {
  status: AgentStatus;
  running: number;
  load: number | null;
  cpu: number | null;
  freeMemoryBytes: number | null;
  /** Set while the agent is in a start-failure back-off; the hub always sends it, null when healthy. */
  unhealthy?: AgentUnhealthy | null;
}

// ---------------------------------------------------------------------------
// API keys

export const apiKeyCreateSchema = z.strictObject({
  name: z.string().trim().min(1, 'must not be empty').max(100, 'must be at most 100 characters'),
  scope: z.enum(['read', 'run', 'admin']),
});
