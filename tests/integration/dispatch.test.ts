import { afterEach, describe, expect, it } from 'vitest';
import { io } from 'socket.io-client';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from 'farmboy-agent/protocol';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createJob, createShellTask, startAgent, startAgents, startTestHub, rawAgentOptions, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

async function runNow(hub: TestHub, jobId: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i += 1) ids.push((await hub.api<{ id: string }>('POST', `/api/jobs/${jobId}/runs`)).body.id);
  return ids;
}

function countBy(runs: Run[], key: (run: Run) => string | null): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const run of runs) {
    const value = key(run) ?? 'none';
    counts[value] = (counts[value] ?? 0) + 1;
  }
  return counts;
}

describe('dispatch over a real fleet', () => {
  it('spreads 30 runs evenly over 3 agents', async () => {
    const hub = await startTestHub();
    // One load report at connect and none during the burst: a report resets the agent's count of
    // runs assigned since its last one (see the NOTE in placement.ts).
    const quiet = { FARMBOY_LOAD_INTERVAL_MS: '600000' };
    await startAgents(hub, ['a', 'b', 'c'].map((name) => ({ name, slots: 12, env: quiet })));
    const task = await createShellTask(hub, 'sleep 1');
    const job = await createJob(hub, { name: 'burst', taskId: task.id, overlap: 'parallel', maxParallel: 30 });

    const ids = await runNow(hub, job.id, 30);
    const runs = await waitFor(() => {
      const list = ids.map((id) => hub.runs.get(id)).filter((run): run is Run => run !== undefined);
      return list.every((run) => run.status === 'succeeded') && list;
    }, 30_000, '30 runs succeeded');

    const perAgent = Object.values(countBy(runs, (run) => run.agentId));
    expect(perAgent).toHaveLength(3);
    expect(Math.max(...perAgent) - Math.min(...perAgent)).toBeLessThanOrEqual(2);
  });

  it('sends tagged runs only to matching agents', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'plain' }, { name: 'gpu-box', tags: ['gpu'] }]);
    const gpuId = hub.service.listAgents().find((agent) => agent.name === 'gpu-box')?.id;
    const task = await createShellTask(hub, 'echo tagged');
    const job = await createJob(hub, { name: 'tagged', taskId: task.id, tags: ['gpu'], overlap: 'parallel', maxParallel: 10 });

    const ids = await runNow(hub, job.id, 6);
    await waitFor(() => ids.every((id) => hub.runs.get(id)?.status === 'succeeded'), 20_000, 'tagged runs succeeded');

    for (const id of ids) expect(hub.runs.get(id)?.agentId).toBe(gpuId);
  });

  it('waits for an eligible agent, then starts', async () => {
    const hub = await startTestHub();
    const task = await createShellTask(hub, 'echo finally');
    const job = await createJob(hub, { name: 'waiting', taskId: task.id, tags: ['late'] });
    await startAgents(hub, [{ name: 'early' }]);

    const [id] = await runNow(hub, job.id, 1);
    const waiting = await waitFor(() => hub.runs.get(id as string)?.waitingReason, 5000, 'waiting reason');
    await startAgent(hub, { name: 'late', tags: ['late'] });
    await waitFor(() => hub.runs.get(id as string)?.status === 'succeeded', 20_000, 'run succeeded');

    expect(waiting).toContain('with tags late');
    expect(hub.runs.get(id as string)?.agentId).toBe(hub.service.listAgents().find((agent) => agent.name === 'late')?.id);
  });

  it('gives fewer runs to a loaded agent', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'idle', slots: 20 }]);
    // A second agent speaking the real protocol that reports a machine far busier than any real one here.
    const busy = io(`${hub.agentUrl}${AGENT_NAMESPACE}`, {
      auth: { protocolVersion: PROTOCOL_VERSION, agentId: 'busy-agent', name: 'busy', version: '0.0.0', token: hub.agentToken },
      ...rawAgentOptions(hub),
    });
    const received: string[] = [];
    busy.on('assign', (assignment: { runId: string }, ack: (reply: unknown) => void) => {
      received.push(assignment.runId);
      ack({ accepted: true });
    });
    await new Promise<void>((resolve) => busy.on('connect', () => resolve()));
    await busy.timeout(5000).emitWithAck('hello', {
      facts: { hostname: 'busy', platform: 'linux', arch: 'x64', cpus: 4, memoryBytes: 1e9, nodeVersion: 'v20' },
      tags: [], slots: 20, maxLoad: null, runs: [],
    });
    busy.emit('load', { load: 50, cpu: 1, freeMemoryBytes: 1e8, running: 0 });
    const task = await createShellTask(hub, 'sleep 2');
    const job = await createJob(hub, { name: 'spread', taskId: task.id, overlap: 'parallel', maxParallel: 20 });
    await new Promise((resolve) => setTimeout(resolve, 200));

    const ids = await runNow(hub, job.id, 10);
    await waitFor(() => ids.every((id) => hub.runs.get(id)?.status !== 'queued'), 10_000, 'runs placed');
    busy.close();

    expect(received.length).toBeLessThan(ids.length - received.length);
  });

  it('runs a job on a two-second cron', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const task = await createShellTask(hub, 'echo tick');

    const job = await createJob(hub, { name: 'every two seconds', taskId: task.id, schedule: { cron: '*/2 * * * * *', timezone: 'UTC' } });
    const runs = await waitFor(() => {
      const list = hub.store.runs.list({ jobId: job.id, limit: 100 }).filter((run) => run.status === 'succeeded');
      return list.length >= 3 && list;
    }, 15_000, 'three scheduled runs');

    expect(runs.every((run) => run.trigger === 'schedule')).toBe(true);
    const starts = runs.map((run) => run.queuedAt).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i += 1) expect((starts[i] as number) - (starts[i - 1] as number)).toBeGreaterThanOrEqual(1500);
  });

  it('skips a fire while the previous run is active', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'a' }]);
    const task = await createShellTask(hub, 'sleep 3');

    const job = await createJob(hub, { name: 'slow', taskId: task.id, schedule: { cron: '* * * * * *', timezone: 'UTC' } });
    await new Promise((resolve) => setTimeout(resolve, 4500));
    await hub.api('PUT', `/api/jobs/${job.id}`, { enabled: false });
    const entries = hub.store.runs.list({ jobId: job.id, limit: 100 });
    const runs = entries.filter((run) => run.status !== 'skipped');

    const overlapping = runs.filter((run) => run.status === 'running' || run.status === 'assigned');
    expect(overlapping.length).toBeLessThanOrEqual(1);
    expect(runs.length).toBeLessThanOrEqual(2);
    // The skipped fires are in history, counted in one entry per run they overlapped.
    expect(entries.filter((run) => run.status === 'skipped').length).toBeGreaterThanOrEqual(1);
    expect(entries.filter((run) => run.status === 'skipped').length).toBeLessThanOrEqual(runs.length);
  });
});
