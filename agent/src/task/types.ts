/**
 * Types of a `node` task as its author sees them. A task module's default
 * export is a `TaskFunction`; the editor completes `ctx` from these
 * declarations and the hub type-checks task sources against them on save.
 */
import type { Json } from '../protocol/index.js';

export type { Json };

export interface TaskLogger {
  /** Writes one line to the run's log (stdout stream). */
  info(...values: unknown[]): void;
  /** Writes one line to the run's log (stderr stream). */
  warn(...values: unknown[]): void;
  /** Writes one line to the run's log (stderr stream). */
  error(...values: unknown[]): void;
}

export interface RunFacts {
  id: string;
  attempt: number;
  jobId: string | null;
  jobName: string | null;
  taskId: string;
  taskName: string;
}

export interface AgentFacts {
  id: string;
  name: string;
  hostname: string;
}

export interface TaskContext<Config extends Record<string, Json> = Record<string, Json>> {
  /** The job's config merged over the task's default config. */
  config: Config;
  log: TaskLogger;
  /** Reports progress, 0 to 100, with an optional status message. */
  progress(percent: number, message?: string): void;
  /** Sends one result record (a datapoint) to the hub; it must be JSON. */
  emit(record: Json): void;
  /** Aborted when the run is cancelled or times out. */
  signal: AbortSignal;
  run: RunFacts;
  agent: AgentFacts;
}

/** The default export of a node task. Its resolved value is stored as the run's result. */
export type TaskFunction<Config extends Record<string, Json> = Record<string, Json>> = (
  ctx: TaskContext<Config>,
) => Promise<Json | void> | Json | void;
