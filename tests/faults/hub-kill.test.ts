import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { openStore } from '../../electron/hub/store/index.js';
import { cleanup, createShellTask, onCleanup, startAgent, startTestHub, tempDir, waitFor } from '../helpers/fleet.js';
import { makeRun } from '../store/helpers.js';
import { startHubProcess, type HubProcess } from './helpers/hub-process.js';
import { TcpProxy } from './helpers/proxy.js';
import { countingTask, duplicates, expectedLines, taskLines } from './helpers/tasks.js';
import { connectRawAgent } from '../security/helpers.js';
import { HubClient } from '../../renderer/src/api/client.js';

afterEach(cleanup);

async function logOf(hub: HubProcess, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

async function runOf(hub: HubProcess, runId: string): Promise<Run> {
  return (await hub.api<Run>('GET', `/api/runs/${runId}`)).body;
}

describe('hub killed with SIGKILL', () => {
  it('takes the sequence from stored output', async () => {
    const dataDir = await tempDir('hub-seq');
    const store = await openStore(dataDir);
    // The run record was written after event 2; the output of events 3 to 5 reached the disk before the crash.
    store.runs.put(makeRun({ id: 'run-1', status: 'running', agentId: 'agent-1', lastSeq: 2, logLines: 1, startedAt: 1 }));
    for (let seq = 2; seq <= 5; seq += 1) store.logs.appendLog('run-1', [{ t: seq, s: 'stdout', m: `line ${seq}` }], { attempt: 1, seq });
    await store.close();

    const hub = await startTestHub({ dataDir });
    const run = hub.runs.get('run-1');

    expect(run?.lastSeq).toBe(5);
    expect(run?.logLines).toBe(4);
    expect(run?.agentOfflineSince).not.toBeNull();
  });

  it('keeps every run it confirmed during a burst', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir('hub-burst');
    const hub = await startHubProcess(dataDir);
    const task = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'hi', runtime: 'shell', source: 'echo hi' })).body;
    const confirmed: string[] = [];
    let killed: Promise<unknown> | null = null;

    // No agent takes them, so every run stays queued; the kill lands while replies are still coming.
    await Promise.all(
      Array.from({ length: 300 }, () =>
        hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {}).then(
          (response) => {
            if (response.status === 201) confirmed.push(response.body.id);
            if (confirmed.length >= 60) killed ??= hub.kill('SIGKILL');
          },
          () => undefined,
        ),
      ),
    );
    await killed;
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    const statuses = await Promise.all(confirmed.map(async (id) => (await restarted.api<Run>('GET', `/api/runs/${id}`)).status));

    expect(confirmed.length).toBeGreaterThanOrEqual(60);
    expect(statuses.filter((status) => status !== 200)).toEqual([]);
  });

  it('takes over a run its agent reports', { timeout: 30_000 }, async () => {
    // The previous hub sent the assignment and stopped before it stored it: the run is queued on disk.
    const dataDir = await tempDir('hub-takeover');
    const first = await startTestHub({ dataDir });
    const task = await createShellTask(first, 'echo hi');
    await first.stop();
    const store = await openStore(dataDir);
    store.runs.put(makeRun({ id: 'run-1', status: 'queued', jobId: null, jobName: null, taskId: task.id }));
    await store.close();
    const hub = await startTestHub({ dataDir, timings: { restoreHoldMs: 3_000 } });

    const bystander = await connectRawAgent(hub, 'agent-b', null, [], []);
    const offered: string[] = [];
    bystander.socket.on('assign', (assignment: { runId: string }) => offered.push(assignment.runId));
    await sleep(500);
    await connectRawAgent(hub, 'agent-a', null, [{ runId: 'run-1', attempt: 1 }], []);
    const run = hub.runs.get('run-1');
    const log = await hub.api<string>('GET', '/api/runs/run-1/log');

    expect(offered).toEqual([]);
    expect(run?.status).toBe('assigned');
    expect(run?.agentId).toBe('agent-a');
    expect(run?.attempt).toBe(1);
    expect(log.body).toContain('attempt 1 was already on agent agent-a when the hub restarted');
  });

  it('carries runs and schedule over a restart', { timeout: 90_000 }, async () => {
    const dataDir = await tempDir('hub-kill');
    const hub = await startHubProcess(dataDir);
    const proxy = await TcpProxy.start(hub.agentPort);
    onCleanup(() => proxy.close());
    const url = `${hub.fingerprint === null ? 'http' : 'https'}://127.0.0.1:${proxy.port}`;
    await startAgent(hub.asHub(url), { name: 'steady', hubUrl: url });
    await waitFor(async () => (await hub.api<{ status: string }[]>('GET', '/api/agents')).body.some((agent) => agent.status === 'online'), 15_000, 'agent online');
    const task = countingTask(4_000, 20, 20);
    const counting = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'count', runtime: 'shell', source: task.source })).body;
    const ticking = (await hub.api<{ id: string }>('POST', '/api/tasks', { name: 'tick', runtime: 'shell', source: 'echo tick' })).body;
    const scheduled = (await hub.api<{ id: string }>('POST', '/api/jobs', { name: 'every 2 s', taskId: ticking.id, schedule: { cron: '*/2 * * * * *', timezone: 'UTC' } })).body;
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${counting.id}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 500, 20_000, 'lines flowing');

    await hub.kill('SIGKILL');
    await sleep(500);
    const restarted = await startHubProcess(dataDir, { adminToken: hub.adminToken, agentToken: hub.agentToken });
    proxy.setTarget(restarted.agentPort);
    const restartedAt = Date.now();
    const run = await waitFor(async () => {
      const current = await runOf(restarted, runId);
      return current.status === 'succeeded' && current;
    }, 40_000, 'run succeeded after the restart');
    const lines = taskLines(await logOf(restarted, runId));
    const ticks = await waitFor(async () => {
      const list = (await restarted.api<Run[]>('GET', `/api/runs?jobId=${scheduled.id}`)).body;
      const after = list.filter((entry) => entry.queuedAt > restartedAt && entry.status === 'succeeded');
      return after.length >= 2 && after;
    }, 20_000, 'scheduled runs after the restart');

    expect(duplicates(lines)).toEqual([]);
    expect(lines).toEqual(expectedLines(1, 4_000));
    expect(run.attempt).toBe(1);
    expect(run.logLines).toBe(4_000);
    expect(ticks.every((entry) => entry.trigger === 'schedule' || entry.trigger === 'catch_up')).toBe(true);
  });

  it('keeps every definition change it confirmed', { timeout: 60_000 }, async () => {
    const dataDir = await tempDir('hub-definitions');
    let hub = await startHubProcess(dataDir);
    const tokens = { adminToken: hub.adminToken, agentToken: hub.agentToken };
    // Each change is followed at once by a kill, well inside the store's 100 ms flush interval.
    const killAfter = async <T>(change: Promise<T>): Promise<T> => {
      const result = await change;
      await hub.kill('SIGKILL');
      hub = await startHubProcess(dataDir, tokens);
      return result;
    };
    const task = (await killAfter(hub.api<{ id: string }>('POST', '/api/tasks', { name: 'kept', runtime: 'shell', source: 'echo hi' }))).body;
    const job = (await killAfter(hub.api<{ id: string }>('POST', '/api/jobs', { name: 'nightly', taskId: task.id, schedule: { cron: '0 3 * * *' } }))).body;
    const disabled = await killAfter(hub.api('PUT', `/api/jobs/${job.id}`, { enabled: false }));
    const afterDisable = (await hub.api<{ enabled: boolean }>('GET', `/api/jobs/${job.id}`)).body;
    const client = new HubClient({ url: `http://127.0.0.1:${hub.uiPort}`, token: hub.adminToken });
    onCleanup(() => client.close());
    await waitFor(() => client.connectionStatus === 'connected', 5_000, 'UI client connected');
    const uiTask = await killAfter(client.request('tasks.create', { name: 'from the window', runtime: 'shell', source: 'echo ui' }));
    client.close();
    const deleted = await killAfter(hub.api('DELETE', `/api/jobs/${job.id}`));
    const tasks = (await hub.api<Array<{ id: string }>>('GET', '/api/tasks')).body.map((entry) => entry.id);
    const afterDelete = await hub.api('GET', `/api/jobs/${job.id}`);

    expect(disabled.status).toBe(200);
    expect(afterDisable.enabled).toBe(false);
    expect(tasks.sort()).toEqual([task.id, uiTask.id].sort());
    expect(deleted.status).toBe(204);
    expect(afterDelete.status).toBe(404);
  });
});
