/**
 * Task processes that outlive their agent. Runs start detached, each the
 * leader of its own process group, so an agent killed with SIGKILL leaves
 * them running. Each run therefore records its process group in
 * `<data-dir>/processes/` while it runs. The next start of the agent ends
 * the groups it finds there and reports their runs as interrupted.
 *
 * A recorded group is matched by its leader's start time and the boot id on
 * Linux, so a process id reused by an unrelated process is never signalled.
 */
import { readFileSync, readdirSync, mkdirSync } from 'node:fs';
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Logger } from '../logger.js';
import { writeSmallFile, type SpareFiles } from './spare-files.js';
import { findAgentProcesses, findRunProcesses } from './leftovers.js';

const PROCESSES_DIR = 'processes';
const isLinux = process.platform === 'linux';
const isWindows = process.platform === 'win32';

const processRecordSchema = z.object({
  runId: z.string().min(1),
  attempt: z.number().int().min(1),
  /** Leader of the run's process group, whose id is also the group id. */
  pid: z.number().int().positive(),
  /** Start time of the leader in clock ticks since boot (Linux), or null where unknown. */
  startTicks: z.number().int().nonnegative().nullable(),
  bootId: z.string().nullable(),
});
export type ProcessRecord = z.infer<typeof processRecordSchema>;

/**
 * Records a run's process group; throws on a file system error. With
 * `spares`, the record file is an empty one created ahead and moved into
 * place, which costs far less than creating it here. Synchronous, so the
 * record is on disk before the agent does anything else.
 */
export function recordProcess(dataDir: string, name: string, run: { runId: string; attempt: number }, pid: number, spares?: SpareFiles): void {
  const record: ProcessRecord = { ...run, pid, startTicks: readStat(pid)?.startTicks ?? null, bootId: bootIdOnce() };
  const directory = path.join(dataDir, PROCESSES_DIR);
  const file = path.join(directory, `${name}.json`);
  if (!knownDirs.has(directory)) {
    mkdirSync(directory, { recursive: true, mode: 0o700 });
    knownDirs.add(directory);
  }
  // Without a spare, or when the move failed because the folder was removed meanwhile, the write creates the file.
  if (!(spares?.takeFile(file) ?? false)) mkdirSync(directory, { recursive: true, mode: 0o700 });
  writeSmallFile(file, JSON.stringify(record), 0o600);
}

/** Record folders created by this process, so a record costs no mkdir. */
const knownDirs = new Set<string>();

/** Removes a run's record once its processes are gone; a record left by a failed removal only names a group that no longer exists. */
export async function forgetProcess(dataDir: string, name: string): Promise<void> {
  await rm(path.join(dataDir, PROCESSES_DIR, `${name}.json`), { force: true });
}

/**
 * Ends the process groups that runs of an earlier agent process left: SIGTERM,
 * then SIGKILL after `graceMs`; then, with `agentId` on Linux, every other
 * process a run of that agent started. Returns the runs concerned, keyed by
 * `runId#attempt`, each with the error to report for it.
 */
export async function endOrphanedRuns(dataDir: string, graceMs: number, log: Logger, agentId?: string): Promise<Map<string, string>> {
  const directory = path.join(dataDir, PROCESSES_DIR);
  const interrupted = new Map<string, string>();
  let names: string[] = [];
  try {
    names = (await readdir(directory)).filter((name) => name.endsWith('.json'));
  } catch (error: unknown) {
    if (!isErrno(error, 'ENOENT')) throw error;
  }
  const bootId = readBootId();
  const records: ProcessRecord[] = [];
  for (const name of names) {
    const file = path.join(directory, name);
    const record = await readRecord(file);
    if (record === null) {
      log.warn({ file }, 'unreadable process record of an earlier run removed');
    } else {
      records.push(record);
      interrupted.set(`${record.runId}#${record.attempt}`, await endRecordedGroup(record, bootId, graceMs, log));
    }
    await rm(file, { force: true });
  }
  // Processes that left their run's group, and those of a run killed before its record was written, still carry
  // the run's and the agent's ids in their environment.
  const strays = agentId === undefined ? await findRunProcesses(records) : await findAgentProcesses(agentId);
  const unrecorded = new Map<string, number>();
  for (const { pid, run } of strays) {
    const key = `${run.runId}#${run.attempt}`;
    log.warn({ runId: run.runId, attempt: run.attempt, pid }, 'ending a process an earlier agent process left running');
    signalProcess(pid);
    if (!interrupted.has(key)) unrecorded.set(key, (unrecorded.get(key) ?? 0) + 1);
  }
  for (const [key, count] of unrecorded) {
    interrupted.set(key, `the agent restarted while this run was going and ended the ${count === 1 ? '1 process' : `${count} processes`} the run had left (SIGKILL)`);
  }
  return interrupted;
}

async function endRecordedGroup(record: ProcessRecord, bootId: string | null, graceMs: number, log: Logger): Promise<string> {
  if (record.bootId !== null && bootId !== null && record.bootId !== bootId) {
    return 'the machine restarted while this run was going';
  }
  const before = groupMembers(record);
  if (before.length === 0) return 'the agent restarted while this run was going; no process of the run was left';

  log.warn({ runId: record.runId, attempt: record.attempt, pgid: record.pid, processes: before.length }, 'ending processes left by an earlier agent process');
  signalGroup(record.pid, 'SIGTERM');
  let signal = 'SIGTERM';
  if (!(await waitUntilGone(record, graceMs))) {
    signal = 'SIGKILL';
    signalGroup(record.pid, 'SIGKILL');
    await waitUntilGone(record, 2_000);
  }
  const left = groupMembers(record).length;
  if (left > 0) log.error({ runId: record.runId, pgid: record.pid, processes: left }, 'processes left by an earlier agent process survived SIGKILL');
  const count = before.length === 1 ? '1 process' : `${before.length} processes`;
  return `the agent restarted while this run was going and ended the ${count} the run had left (${signal})`;
}

async function readRecord(file: string): Promise<ProcessRecord | null> {
  try {
    const parsed = processRecordSchema.safeParse(JSON.parse(await readFile(file, 'utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

async function waitUntilGone(record: ProcessRecord, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (groupMembers(record).length > 0) {
    if (Date.now() >= deadline) return false;
    await sleep(50);
  }
  return true;
}

/** Live processes of the recorded group that are not older than its leader. */
function groupMembers(record: ProcessRecord): number[] {
  if (isLinux && record.startTicks !== null) {
    const members: number[] = [];
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = readStat(Number(entry));
      if (stat !== null && stat.pgid === record.pid && stat.state !== 'Z' && stat.startTicks >= record.startTicks) members.push(Number(entry));
    }
    return members;
  }
  // NOTE: without /proc (macOS, Windows) a group id reused by another program since the crash cannot be recognised.
  if (isWindows) return [];
  try {
    process.kill(-record.pid, 0);
    return [record.pid];
  } catch {
    return [];
  }
}

function signalProcess(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch (error: unknown) {
    // Gone since the scan, or its id now belongs to another user: nothing of the run is left to end.
    if (!isErrno(error, 'ESRCH') && !isErrno(error, 'EPERM')) throw error;
  }
}

function signalGroup(pgid: number, signal: 'SIGTERM' | 'SIGKILL'): void {
  try {
    process.kill(-pgid, signal);
  } catch (error: unknown) {
    if (!isErrno(error, 'ESRCH')) throw error;
  }
}

interface ProcStat {
  state: string;
  pgid: number;
  startTicks: number;
}

/** Reads /proc/<pid>/stat; null where it does not exist. The command name may contain spaces and parentheses, so fields are counted from the last ')'. */
function readStat(pid: number): ProcStat | null {
  if (!isLinux) return null;
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const state = fields[0];
    const pgid = Number(fields[2]);
    const startTicks = Number(fields[19]);
    if (state === undefined || !Number.isInteger(pgid) || !Number.isInteger(startTicks)) return null;
    return { state, pgid, startTicks };
  } catch {
    return null;
  }
}

let cachedBootId: string | null | undefined;

/** Returns the boot id, read once because it does not change while the agent runs. */
function bootIdOnce(): string | null {
  if (cachedBootId === undefined) cachedBootId = readBootId();
  return cachedBootId;
}

function readBootId(): string | null {
  if (!isLinux) return null;
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return null;
  }
}

function isErrno(error: unknown, code: string): boolean {
  return error instanceof Error && 'code' in error && error.code === code;
}
