import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, onCleanup, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { TcpProxy } from './helpers/proxy.js';
import { countingTask, duplicates, expectedLines, taskLines } from './helpers/tasks.js';

afterEach(cleanup);

/** A proxy in front of the hub's agent port, and its address in the scheme the hub serves. */
async function proxyFor(hub: TestHub): Promise<{ proxy: TcpProxy; url: string }> {
  const proxy = await TcpProxy.start(hub.agentPort);
  onCleanup(() => proxy.close());
  return { proxy, url: `${new URL(hub.agentUrl).protocol}//127.0.0.1:${proxy.port}` };
}

async function logOf(hub: TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

function agentIdOf(hub: TestHub, name: string): string | undefined {
  return hub.service.listAgents().find((agent) => agent.name === name)?.id;
}

describe('network drops between agent and hub', () => {
  it.each(['reset', 'drop'] as const)('keeps every line across a %s', { timeout: 60_000 }, async (mode) => {
    const hub = await startTestHub({ timings: { agentGraceMs: 60_000 } });
    const { proxy, url } = await proxyFor(hub);
    await startAgents(hub, [{ name: 'behind-proxy', hubUrl: url }]);
    const task = countingTask(150, 20);
    const { id: taskId } = await createShellTask(hub, task.source);
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 20, 30_000, 'first lines');

    proxy.cut(mode);
    await waitFor(() => task.alive().length === 0, 30_000, 'the task to finish offline');
    const storedWhileCut = taskLines(await logOf(hub, runId)).length;
    proxy.restore();
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 40_000, 'run succeeded');
    const log = await logOf(hub, runId);
    const lines = taskLines(log);

    expect(storedWhileCut).toBeLessThan(150);
    expect(lines).toEqual(expectedLines(1, 150));
    expect(run.attempt).toBe(1);
    expect(run.logLines).toBe(150);
    // A reset shows at once; a silent drop may end before the hub's heartbeat notices it.
    if (mode === 'reset') expect(log.indexOf('agent reconnected and still has this run')).toBeGreaterThan(log.indexOf('agent went offline'));
  });

  it('retries a run lost past the grace period', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 1_500 } });
    const { proxy, url } = await proxyFor(hub);
    await startAgents(hub, [{ name: 'first', hubUrl: url }]);
    const task = countingTask(120, 40);
    const { id: taskId } = await createShellTask(hub, task.source);
    const job = await createJob(hub, { name: 'retried', taskId, retries: 1, retryDelaySec: 0 });
    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(async () => taskLines(await logOf(hub, runId)).length >= 10, 30_000, 'first lines');

    proxy.cut('reset');
    await startAgent(hub, { name: 'second' });
    await waitFor(() => hub.runs.get(runId)?.attempt === 2 && hub.runs.get(runId)?.status === 'running', 20_000, 'second attempt running');
    // The first agent does not know yet that its attempt is stale.
    const firstStillRunning = task.alive(1).length;
    proxy.restore();
    await waitFor(() => hub.service.listAgents().filter((agent) => agent.status === 'online').length === 2, 20_000, 'first agent back');
    await waitFor(() => task.alive(1).length === 0, 15_000, 'stale attempt stopped');
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'succeeded' && hub.runs.get(runId), 30_000, 'second attempt succeeded');
    const lines = taskLines(await logOf(hub, runId));

    expect(firstStillRunning).toBe(1);
    expect(run.agentId).toBe(agentIdOf(hub, 'second'));
    expect(duplicates(lines)).toEqual([]);
    expect(lines.filter((line) => line.startsWith('attempt 2 '))).toEqual(expectedLines(2, 120));
    const first = lines.filter((line) => line.startsWith('attempt 1 '));
    expect(first).toEqual(expectedLines(1, first.length));
  });

  it('cancels a run while its agent is away', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 60_000 } });
    const { proxy, url } = await proxyFor(hub);
    await startAgents(hub, [{ name: 'away', hubUrl: url }]);
    const doomed = countingTask(10_000, 100);
    const { id: doomedTask } = await createShellTask(hub, doomed.source, 'doomed');
    const { id: laterTask } = await createShellTask(hub, 'echo "second run"', 'later');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${doomedTask}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 30_000, 'run started');

    proxy.cut('reset');
    await waitFor(() => hub.runs.get(runId)?.agentOfflineSince, 10_000, 'agent seen offline');
    await hub.api('POST', `/api/runs/${runId}/cancel`);
    const laterId = (await hub.api<{ id: string }>('POST', `/api/tasks/${laterTask}/runs`, {})).body.id;
    const aliveWhileAway = doomed.alive().length;
    proxy.restore();
    await waitFor(() => doomed.alive().length === 0, 20_000, 'task stopped after reconnect');
    const later = await waitFor(() => hub.runs.get(laterId)?.status === 'succeeded' && hub.runs.get(laterId), 20_000, 'later run succeeded');

    expect(aliveWhileAway).toBeGreaterThan(0);
    expect(hub.runs.get(runId)?.status).toBe('cancelled');
    expect(later.attempt).toBe(1);
    expect((await logOf(hub, laterId)).match(/second run/g)).toHaveLength(1);
  });

  it('delivers a cancel lost in a silent drop', { timeout: 90_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 120_000, cancelGraceMs: 120_000 } });
    const { proxy, url } = await proxyFor(hub);
    await startAgents(hub, [{ name: 'silent', hubUrl: url }]);
    const task = countingTask(10_000, 100);
    const { id: taskId } = await createShellTask(hub, task.source);
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 30_000, 'run started');

    // Neither end notices a silent drop before its heartbeat times out, so the hub sends the cancel into the void.
    proxy.cut('drop');
    await hub.api('POST', `/api/runs/${runId}/cancel`);
    await waitFor(() => hub.runs.get(runId)?.agentOfflineSince, 40_000, 'agent seen offline');
    const aliveWhileAway = task.alive().length;
    proxy.restore();
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'cancelled' && hub.runs.get(runId), 40_000, 'run cancelled');

    expect(aliveWhileAway).toBe(1);
    expect(task.alive()).toEqual([]);
    expect(run.error).toBe('cancelled by a user');
  });
});
