import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LeftoverSweeper } from '../src/runner/leftovers.js';
import { endOrphanedRuns, recordProcess } from '../src/runner/orphans.js';
import { Run } from '../src/runner/run.js';
import type { RunSettings } from '../src/runner/types.js';
import type { Assignment } from '../src/protocol/index.js';
import { makeAssignment, makeSettings, makeTempDir, MemorySink, removeDir } from './helpers.js';

const silent = pino({ level: 'silent' });
const pids: number[] = [];

/** Tells whether the process exists and is not a zombie waiting for its parent. */
function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function waitUntilGone(pid: number): Promise<boolean> {
  for (let tries = 0; tries < 100 && isRunning(pid); tries += 1) await sleep(20);
  return !isRunning(pid);
}

/** Runs to the end without the group kill that the shared helper adds, so only the sweeper ends leftovers. */
async function runWithoutCleanup(assignment: Assignment, settings: RunSettings) {
  const sink = new MemorySink();
  const run = new Run(assignment, sink, settings);
  await run.start();
  return { sink, outcome: await run.finished };
}

/** Returns the pid a task printed as `pid N`. */
function printedPid(lines: string[]): number {
  const pid = Number(lines.find((line) => line.startsWith('pid '))?.slice(4));
  pids.push(pid);
  return pid;
}

describe.skipIf(process.platform !== 'linux')('processes a run leaves behind', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    for (const pid of pids.splice(0)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await removeDir(dataDir);
  });

  it.each([
    ['in its own session', 'setsid sleep 300 >/dev/null 2>&1 </dev/null &\necho "pid $!"'],
    ['in the run group', 'sleep 300 >/dev/null 2>&1 </dev/null &\necho "pid $!"'],
  ])('ends a leftover %s', async (_where, script) => {
    const leftovers = new LeftoverSweeper(silent, 10_000);
    const settings = makeSettings(dataDir, { leftovers });

    const { sink, outcome } = await runWithoutCleanup(makeAssignment('shell', script), settings);
    await leftovers.flush();

    expect(outcome.status).toBe('succeeded');
    expect(await waitUntilGone(printedPid(sink.messages('stdout')))).toBe(true);
  });

  it('keeps a process that cleared its run id', async () => {
    const leftovers = new LeftoverSweeper(silent, 10_000);
    const script = 'FARMBOY_RUN_ID= sleep 300 >/dev/null 2>&1 </dev/null &\necho "pid $!"';

    const { sink } = await runWithoutCleanup(makeAssignment('shell', script), makeSettings(dataDir, { leftovers }));
    await leftovers.flush();
    await sleep(200);

    expect(isRunning(printedPid(sink.messages('stdout')))).toBe(true);
  });

  it('leaves other attempts of the run alone', async () => {
    const leftovers = new LeftoverSweeper(silent, 10_000);
    const assignment = makeAssignment('shell', 'true');
    const other = spawn('sleep', ['300'], { env: { ...process.env, FARMBOY_RUN_ID: assignment.runId, FARMBOY_ATTEMPT: '2' }, stdio: 'ignore' });
    pids.push(other.pid as number);

    await runWithoutCleanup(assignment, makeSettings(dataDir, { leftovers }));
    await leftovers.flush();
    await sleep(200);

    expect(isRunning(other.pid as number)).toBe(true);
  });

  it('ends an escaped process after an agent crash', async () => {
    const run = { runId: 'run-crashed', attempt: 1 };
    const group = spawn('sleep', ['300'], { detached: true, stdio: 'ignore' });
    const escaped = spawn('setsid', ['sleep', '300'], { env: { ...process.env, FARMBOY_RUN_ID: run.runId, FARMBOY_ATTEMPT: '1' }, stdio: 'ignore' });
    pids.push(group.pid as number, escaped.pid as number);
    recordProcess(dataDir, 'crashed', run, group.pid as number);

    const interrupted = await endOrphanedRuns(dataDir, 1_000, silent);

    expect([...interrupted.keys()]).toEqual(['run-crashed#1']);
    expect(await waitUntilGone(escaped.pid as number)).toBe(true);
    expect(await waitUntilGone(group.pid as number)).toBe(true);
  });

  it('ends the tasks of an unrecorded run', async () => {
    const env = (agentId: string) => ({ ...process.env, FARMBOY_AGENT_ID: agentId, FARMBOY_RUN_ID: 'run-unrecorded', FARMBOY_ATTEMPT: '2' });
    const ours = spawn('sleep', ['300'], { env: env('agent-crashed'), stdio: 'ignore' });
    const another = spawn('sleep', ['300'], { env: env('agent-beside'), stdio: 'ignore' });
    pids.push(ours.pid as number, another.pid as number);

    const interrupted = await endOrphanedRuns(dataDir, 1_000, silent, 'agent-crashed');

    expect(interrupted.get('run-unrecorded#2')).toMatch(/ended the 1 process the run had left/);
    expect(await waitUntilGone(ours.pid as number)).toBe(true);
    expect(isRunning(another.pid as number)).toBe(true);
  });
});
