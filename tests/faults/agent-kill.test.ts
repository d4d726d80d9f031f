import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, onCleanup, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { TcpProxy } from './helpers/proxy.js';
import { countingTask, duplicates, expectedLines, taskLines } from './helpers/tasks.js';

afterEach(cleanup);

async function logOf(hub: TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

describe('agent killed with SIGKILL', () => {
  it('delivers spooled events after restart', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 60_000 } });
    const proxy = await TcpProxy.start(hub.agentPort);
    onCleanup(() => proxy.close());
    const url = `${new URL(hub.agentUrl).protocol}//127.0.0.1:${proxy.port}`;
    const [agent] = await startAgents(hub, [{ name: 'crashy', hubUrl: url }]);
    const task = countingTask(100, 10);
    const { id: taskId } = await createShellTask(hub, task.source);
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 5, 30_000, 'first lines');

    proxy.cut('reset');
    await waitFor(() => task.alive().length === 0, 20_000, 'the task to finish offline');
    // Lets the agent seal and spool the last lines and the end of the run.
    await sleep(300);
    agent?.process.kill('SIGKILL');
    await agent?.exited;
    const storedBeforeRestart = taskLines(await logOf(hub, runId)).length;
    proxy.restore();
    await startAgent(hub, { name: 'crashy', hubUrl: url, dataDir: agent?.dataDir });
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 20_000, 'run succeeded');

    expect(storedBeforeRestart).toBeLessThan(100);
    expect(taskLines(await logOf(hub, runId))).toEqual(expectedLines(1, 100));
    expect(run.exitCode).toBe(0);
  });

  it('ends orphans of a run retried elsewhere', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 1_500 } });
    const [first] = await startAgents(hub, [{ name: 'first' }]);
    const task = countingTask(150, 40);
    const { id: taskId } = await createShellTask(hub, task.source);
    const job = await createJob(hub, { name: 'retried', taskId, retries: 1, retryDelaySec: 0 });
    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 5, 30_000, 'first lines');

    first?.process.kill('SIGKILL');
    await startAgent(hub, { name: 'second' });
    await waitFor(() => hub.runs.get(runId)?.attempt === 2 && hub.runs.get(runId)?.status === 'running', 20_000, 'second attempt running');
    // The killed agent left the first attempt's processes behind.
    const orphansLeft = task.alive(1).length;
    await startAgent(hub, { name: 'first', dataDir: first?.dataDir });
    await waitFor(() => task.alive(1).length === 0, 15_000, 'orphans ended');
    const secondStillRunning = hub.runs.get(runId)?.status === 'running';
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 30_000, 'second attempt succeeded');
    const lines = taskLines(await logOf(hub, runId));

    expect(orphansLeft).toBe(1);
    expect(secondStillRunning).toBe(true);
    expect(run.attempt).toBe(2);
    expect(duplicates(lines)).toEqual([]);
    expect(lines.filter((line) => line.startsWith('attempt 2 '))).toEqual(expectedLines(2, 150));
    const attemptOne = lines.filter((line) => line.startsWith('attempt 1 '));
    expect(attemptOne).toEqual(expectedLines(1, attemptOne.length));
  });

  it('keeps a second agent off its directory', { timeout: 60_000 }, async () => {
    const hub = await startTestHub();
    const [first] = await startAgents(hub, [{ name: 'owner' }]);
    const task = countingTask(10_000, 50);
    const { id: taskId } = await createShellTask(hub, task.source);
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 30_000, 'run started');

    const second = await startAgent(hub, { name: 'intruder', dataDir: first?.dataDir });
    const code = await second.exited;

    expect(code).toBe(1);
    expect(second.output()).toContain(`Another farmboy-agent (PID ${first?.process.pid}) uses the data directory`);
    expect(task.alive(1)).toHaveLength(1);
    expect(hub.runs.get(runId)?.status).toBe('running');
  });

  it('restarts fast without running a job twice', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 60_000 } });
    const [agent] = await startAgents(hub, [{ name: 'phoenix' }]);
    const task = countingTask(10_000, 50);
    const { id: taskId } = await createShellTask(hub, task.source);
    const job = await createJob(hub, { name: 'forbid overlap', taskId, overlap: 'skip' });
    const firstId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(async () => taskLines(await logOf(hub, firstId)).length >= 5, 30_000, 'first lines');

    agent?.process.kill('SIGKILL');
    await agent?.exited;
    await startAgent(hub, { name: 'phoenix', dataDir: agent?.dataDir });
    const first = await waitFor(() => hub.runs.get(firstId)?.status === 'lost' && hub.runs.get(firstId), 15_000, 'first run lost');
    const secondId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(secondId)?.status === 'running', 15_000, 'second run running');
    await waitFor(async () => taskLines(await logOf(hub, secondId)).length >= 1, 15_000, 'second run output');
    const lines = taskLines(await logOf(hub, firstId));

    expect(first.error).toMatch(/^the agent restarted while this run was going and ended the \d+ process/);
    expect(task.alive()).toHaveLength(1);
    expect(duplicates(lines)).toEqual([]);
    expect(lines).toEqual(expectedLines(1, lines.length));
  });
});
