/**
 * Processes a run leaves behind once it ends, such as a background process
 * with its output redirected, or one that started a session of its own
 * (`setsid`, a daemon's double fork) and so left the run's process group.
 * All of them still carry the environment the run gave them, so on Linux the
 * agent finds them by FARMBOY_RUN_ID and FARMBOY_ATTEMPT in
 * /proc/<pid>/environ and ends them. A process meant to outlive its run is
 * started with FARMBOY_RUN_ID cleared. Without /proc the agent ends the
 * run's process group instead, which a process in a session of its own
 * escapes.
 */
import { readdir, readFile } from 'node:fs/promises';
import type { Logger } from '../logger.js';

const isLinux = process.platform === 'linux';
/** Files read at once while scanning /proc, which bounds the descriptors a scan keeps open. */
const SCAN_CONCURRENCY = 32;

export interface RunKey {
  runId: string;
  attempt: number;
}

/** A process started by a run, with the run facts of its environment. */
export interface TaskProcessEntry {
  pid: number;
  run: RunKey;
  agentId: string;
}

/** Lists the processes other than this one whose environment names one of `runs`; always empty off Linux. */
export async function findRunProcesses(runs: readonly RunKey[]): Promise<TaskProcessEntry[]> {
  if (runs.length === 0) return [];
  const wanted = new Set(runs.map((run) => `${run.runId}#${run.attempt}`));
  return (await scanTaskProcesses()).filter((entry) => wanted.has(`${entry.run.runId}#${entry.run.attempt}`));
}

/** Lists the processes other than this one that a run of agent `agentId` started; always empty off Linux. */
export async function findAgentProcesses(agentId: string): Promise<TaskProcessEntry[]> {
  return (await scanTaskProcesses()).filter((entry) => entry.agentId === agentId);
}

/** Lists every process whose environment carries a run's id and attempt, read from /proc. */
async function scanTaskProcesses(): Promise<TaskProcessEntry[]> {
  if (!isLinux) return [];
  const pids = (await readdir('/proc')).filter((entry) => /^\d+$/.test(entry)).map(Number).filter((pid) => pid !== process.pid);
  const found: TaskProcessEntry[] = [];
  for (let start = 0; start < pids.length; start += SCAN_CONCURRENCY) {
    await Promise.all(
      pids.slice(start, start + SCAN_CONCURRENCY).map(async (pid) => {
        const facts = runFactsOf(await readEnviron(pid));
        if (facts) found.push({ pid, ...facts });
      }),
    );
  }
  return found;
}

/**
 * Ends what runs leave behind, batched into one scan of /proc per interval,
 * so the scan stays off the path that reports a run finished.
 */
export class LeftoverSweeper {
  private pending: RunKey[] = [];
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> = Promise.resolve();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = 1000,
  ) {}

  /** Queues the run for the next scan; without /proc, ends its process group now. */
  sweep(run: RunKey, groupLeader: number | undefined): void {
    if (!isLinux) {
      // NOTE: untested here (Linux only); Windows runs end their tree with taskkill when stopped, not here.
      if (groupLeader !== undefined && process.platform !== 'win32') killQuietly(-groupLeader);
      return;
    }
    this.pending.push(run);
    this.timer ??= setTimeout(() => void this.flush(), this.intervalMs);
    this.timer.unref();
  }

  /** Scans for the queued runs now; resolves once their processes were signalled. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    const runs = this.pending;
    this.pending = [];
    this.scanning = this.scanning.then(() => this.end(runs));
    return this.scanning;
  }

  private async end(runs: RunKey[]): Promise<void> {
    try {
      for (const { pid, run } of await findRunProcesses(runs)) {
        this.log.warn({ runId: run.runId, attempt: run.attempt, pid }, 'ending a process the run left running');
        killQuietly(pid);
      }
    } catch (error: unknown) {
      this.log.warn({ err: error, runs: runs.length }, 'scan for processes left by runs failed');
    }
  }
}

/** Reads a process's environment; empty when it is gone or belongs to another user. */
async function readEnviron(pid: number): Promise<string> {
  try {
    return (await readFile(`/proc/${pid}/environ`)).toString('latin1');
  } catch {
    return '';
  }
}

/** Reads the run facts of an environment block; null when the run's id or attempt is missing. */
function runFactsOf(environ: string): { run: RunKey; agentId: string } | null {
  if (!environ.includes('FARMBOY_RUN_ID=')) return null;
  const variables = new Map<string, string>();
  for (const entry of environ.split('\0')) {
    const equals = entry.indexOf('=');
    if (entry.startsWith('FARMBOY_') && equals > 0) variables.set(entry.slice(0, equals), entry.slice(equals + 1));
  }
  const runId = variables.get('FARMBOY_RUN_ID') ?? '';
  const attempt = Number(variables.get('FARMBOY_ATTEMPT'));
  if (!runId || !Number.isInteger(attempt)) return null;
  return { run: { runId, attempt }, agentId: variables.get('FARMBOY_AGENT_ID') ?? '' };
}

// ESRCH (already gone) and EPERM (now another user's process id) both mean there is nothing of ours to end.
function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // See above.
  }
}
