import { spawn } from 'node:child_process';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { endOrphanedRuns, forgetProcess, recordProcess } from '../src/runner/orphans.js';
import { livingGroupMembers, makeTempDir, removeDir } from './helpers.js';

const silent = pino({ level: 'silent' });

describe('orphaned run processes', () => {
  let dataDir = '';
  const groups: number[] = [];

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    for (const group of groups.splice(0)) {
      try {
        process.kill(-group, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
    await removeDir(dataDir);
  });

  /** Starts a detached group of three processes, as a run of a killed agent would leave. */
  async function startGroup(): Promise<number> {
    const child = spawn('/bin/sh', ['-c', 'sleep 300 & sleep 300; wait'], { detached: true, stdio: 'ignore' });
    const pid = child.pid as number;
    groups.push(pid);
    for (let tries = 0; tries < 100 && (await livingGroupMembers(pid)).length < 3; tries += 1) await sleep(20);
    return pid;
  }

  async function records(): Promise<string[]> {
    return readdir(path.join(dataDir, 'processes'));
  }

  it('ends the group a killed agent left', async () => {
    const pid = await startGroup();
    recordProcess(dataDir, 'run-x-1', { runId: 'run-x', attempt: 1 }, pid);

    const interrupted = await endOrphanedRuns(dataDir, 300, silent);

    expect(interrupted.get('run-x#1')).toBe('the agent restarted while this run was going and ended the 3 processes the run had left (SIGTERM)');
    expect(await livingGroupMembers(pid)).toEqual([]);
    expect(await records()).toEqual([]);
  });

  it.each([
    { name: 'a reused process id', change: { startTicks: 10 ** 12 }, error: 'no process of the run was left' },
    { name: 'an earlier boot', change: { bootId: 'another-boot' }, error: 'the machine restarted while this run was going' },
  ])('spares processes of $name', async ({ change, error }) => {
    const pid = await startGroup();
    recordProcess(dataDir, 'run-y-2', { runId: 'run-y', attempt: 2 }, pid);
    const file = path.join(dataDir, 'processes', 'run-y-2.json');
    await writeFile(file, JSON.stringify({ ...JSON.parse(await readFile(file, 'utf8')), ...change }));

    const interrupted = await endOrphanedRuns(dataDir, 300, silent);

    expect(interrupted.get('run-y#2')).toContain(error);
    expect(await livingGroupMembers(pid)).toHaveLength(3);
    expect(await records()).toEqual([]);
  });

  it('forgets the record of a run that ended', async () => {
    const pid = await startGroup();
    recordProcess(dataDir, 'run-z-1', { runId: 'run-z', attempt: 1 }, pid);

    await forgetProcess(dataDir, 'run-z-1');
    const interrupted = await endOrphanedRuns(dataDir, 300, silent);

    expect(interrupted.size).toBe(0);
    expect(await livingGroupMembers(pid)).toHaveLength(3);
  });

  it('reports nothing without records', async () => {
    const interrupted = await endOrphanedRuns(dataDir, 300, silent);

    expect(interrupted.size).toBe(0);
  });
});
