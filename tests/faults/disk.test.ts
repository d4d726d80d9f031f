import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createShellTask, onCleanup, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { canMount, mountSmallDisk } from './helpers/disk.js';
import { startHubProcess, type HubProcess } from './helpers/hub-process.js';
import { TcpProxy } from './helpers/proxy.js';
import { countingTask, duplicates, expectedLines, taskLines } from './helpers/tasks.js';

afterEach(cleanup);

async function logOf(hub: HubProcess | TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

// NOTE: these tests mount a tmpfs, which needs root or CAP_SYS_ADMIN; elsewhere they are skipped.
describe.runIf(canMount)('full or read-only data directory', () => {
  it('hub acknowledges only what it stored', { timeout: 90_000 }, async () => {
    const disk = await mountSmallDisk(32 * 1024 * 1024);
    const dataDir = join(disk.dir, 'hub');
    const hub = await startHubProcess(dataDir);
    const proxy = await TcpProxy.start(hub.agentPort);
    onCleanup(() => proxy.close());
    const url = `${hub.fingerprint === null ? 'http' : 'https'}://127.0.0.1:${proxy.port}`;
    await startAgent(hub.asHub(url), { name: 'steady', hubUrl: url });
    const task = countingTask(1_500, 30, 10);
    const { id: taskId } = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'count', runtime: 'shell', source: task.source })).body;
    await waitFor(async () => (await hub.api<{ status: string }[]>('GET', '/api/agents')).body.some((agent) => agent.status === 'online'), 15_000, 'agent online');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 100, 20_000, 'first lines');

    await disk.fill();
    await waitFor(() => task.alive().length === 0, 30_000, 'the task to finish');
    await waitFor(() => hub.output().includes('cannot store run events'), 10_000, 'the store error in the hub log');
    const health = await hub.api<{ ok: boolean }>('GET', '/api/health');
    await hub.kill('SIGKILL');
    await disk.free();
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    proxy.setTarget(restarted.agentPort);
    const run = await waitFor(async () => {
      const current = (await restarted.api<Run>('GET', `/api/runs/${runId}`)).body;
      return current.status === 'succeeded' && current;
    }, 40_000, 'run succeeded after the restart');
    const lines = taskLines(await logOf(restarted, runId));

    expect(health.body.ok).toBe(true);
    expect(duplicates(lines)).toEqual([]);
    expect(lines).toEqual(expectedLines(1, 1_500));
    expect(run.logLines).toBe(1_500);
  });

  it('agent keeps events in memory when its disk is full', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    await startAgents(hub, [{ name: 'cramped', dataDir: join(disk.dir, 'agent') }]);
    const task = countingTask(300, 30, 10);
    const { id: taskId } = await createShellTask(hub, task.source);
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 20, 30_000, 'first lines');

    await disk.fill();
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 30_000, 'run succeeded');
    const log = await logOf(hub, runId);

    expect(log).toContain('the agent cannot write its outbox spool');
    expect(log).toContain('ENOSPC');
    expect(taskLines(log)).toEqual(expectedLines(1, 300));
    // The task's lines and the agent's line about its spool.
    expect(run.logLines).toBe(301);
  });

  it('agent refuses a read-only data directory', { timeout: 30_000 }, async () => {
    const hub = await startTestHub();
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    const dataDir = join(disk.dir, 'agent');
    const [first] = await startAgents(hub, [{ name: 'frozen', dataDir }]);
    await first?.stop('SIGTERM');

    disk.setReadOnly(true);
    const agent = await startAgent(hub, { name: 'frozen', dataDir, token: null });
    const code = await agent.exited;

    expect(code).toBe(1);
    expect(agent.output()).toContain(dataDir);
    expect(agent.output()).toMatch(/read-only file system/i);
  });

  it('hub refuses a read-only data directory', { timeout: 30_000 }, async () => {
    const disk = await mountSmallDisk(8 * 1024 * 1024);
    const dataDir = join(disk.dir, 'hub');
    const hub = await startHubProcess(dataDir);
    await hub.kill('SIGTERM');
    await sleep(100);

    disk.setReadOnly(true);
    const failure = await startHubProcess(dataDir).then(
      () => '',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );

    expect(failure).toContain(dataDir);
    expect(failure).toMatch(/read-only file system/i);
  });
});
