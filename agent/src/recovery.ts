/**
 * The take-over from the agent's previous process at start: the task
 * processes a crash left running are ended, and the outbox spool is opened
 * with the events the hub has not acknowledged yet.
 */
import path from 'node:path';
import { lockDataDir } from './data-dir-lock.js';
import { AgentError } from './errors.js';
import type { Logger } from './logger.js';
import { endOrphanedRuns } from './runner/orphans.js';
import { Spool, type SpooledEvent } from './spool.js';

export interface Recovered {
  spool: Spool;
  /** Events left in the spool, in the order they were written. */
  events: SpooledEvent[];
  /** Runs whose processes the previous agent process left, keyed by `runId#attempt`, with the error to report. */
  interrupted: Map<string, string>;
}

export const SPOOL_DIR = 'outbox';

/**
 * Locks the data directory, ends orphaned task processes and opens the
 * spool. Throws AgentError when another agent uses the directory or it
 * cannot be used.
 */
export async function recoverPreviousProcess(dataDir: string, killGraceMs: number, log: Logger, agentId?: string): Promise<Recovered> {
  lockDataDir(dataDir);
  let interrupted: Map<string, string>;
  try {
    interrupted = await endOrphanedRuns(dataDir, killGraceMs, log, agentId);
  } catch (error: unknown) {
    throw unusable(dataDir, 'read the process records of earlier runs', error);
  }
  const dir = path.join(dataDir, SPOOL_DIR);
  let opened: { spool: Spool; recovered: SpooledEvent[] };
  try {
    opened = await Spool.open({ dir, log: log.child({ component: 'spool' }) });
  } catch (error: unknown) {
    throw unusable(dataDir, `open the outbox spool ${dir}`, error);
  }
  if (opened.recovered.length > 0 || interrupted.size > 0) {
    log.info({ events: opened.recovered.length, interruptedRuns: interrupted.size }, 'taking over from the previous agent process');
  }
  return { spool: opened.spool, events: opened.recovered, interrupted };
}

function unusable(dataDir: string, action: string, error: unknown): AgentError {
  const reason = error instanceof Error ? error.message : String(error);
  return new AgentError(
    'data_dir_unusable',
    `Cannot ${action}: ${reason}. The agent needs a writable data directory; free space or fix the permissions of ${dataDir}, or choose another one with --data-dir.`,
  );
}
