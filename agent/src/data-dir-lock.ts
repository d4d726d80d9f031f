/**
 * One agent process per data directory. A second agent on the same
 * directory would take the first one's running tasks for orphans of a crash
 * and end them, and would share its spool, so it stops before it touches
 * anything. The lock file holds the owner's PID; a lock whose owner no
 * longer runs (the agent was killed) is taken over.
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AgentError } from './errors.js';

export const LOCK_FILE = 'agent.lock';

/** Takes the lock of `dataDir` for this process and releases it when the process exits; throws AgentError when another agent holds it. */
export function lockDataDir(dataDir: string): void {
  const file = path.join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 2; attempt += 1) {
    try {
      writeFileSync(file, `${process.pid}\n`, { flag: 'wx', mode: 0o600 });
      process.on('exit', () => rmSync(file, { force: true }));
      return;
    } catch (error: unknown) {
      if (!isErrno(error, 'EEXIST')) throw unusable(dataDir, error);
    }
    const owner = readOwner(file);
    if (owner !== null && owner !== process.pid && isAgentProcess(owner)) {
      throw new AgentError(
        'data_dir_locked',
        `Another farmboy-agent (PID ${owner}) uses the data directory ${dataDir}. Stop it, or give this agent its own directory with --data-dir.`,
      );
    }
    rmSync(file, { force: true });
  }
  throw new AgentError('data_dir_locked', `Cannot take the lock ${file}: another agent keeps creating it. Give this agent its own directory with --data-dir.`);
}

function readOwner(file: string): number | null {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Returns whether the process exists and, where /proc shows its command line, is a farmboy agent rather than a program that got its PID later. */
function isAgentProcess(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error: unknown) {
    if (!isErrno(error, 'EPERM')) return false;
  }
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('farmboy-agent');
  } catch {
    // NOTE: without /proc (macOS, Windows) any process with the recorded PID counts as the owner.
    return process.platform !== 'linux';
  }
}

function unusable(dataDir: string, error: unknown): AgentError {
  const reason = error instanceof Error ? error.message : String(error);
  return new AgentError('data_dir_unusable', `Cannot write the lock file in ${dataDir}: ${reason}. Free space or fix the permissions of the directory, or choose another one with --data-dir.`);
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
