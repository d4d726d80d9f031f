import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, onCleanup, startAgent, startAgents, startTestHub, waitFor } from '../helpers/fleet.js';
import { killProcessesWith, uniqueDurations } from '../helpers/processes.js';

/** Returns a sleep command with a duration unique to this test, whose orphans are killed afterwards. */
function orphanSafeSleep(): string {
  const [duration] = uniqueDurations(1);
  onCleanup(() => killProcessesWith(`sleep ${duration}`));
  return `sleep ${duration}`;
}

afterEach(cleanup);

describe('agent loss', () => {
  it('loses a run after the grace period and retries elsewhere', async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 1500 } });
    const [first] = await startAgents(hub, [{ name: 'first' }]);
    const task = await createShellTask(hub, orphanSafeSleep());
    const job = await createJob(hub, { name: 'long', taskId: task.id, retries: 1, retryDelaySec: 0, timeoutSec: 3 });
    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 10_000, 'run started');
    const firstId = hub.runs.get(runId)?.agentId;

    first?.process.kill('SIGKILL');
    const offline = await waitFor(() => hub.runs.get(runId)?.agentOfflineSince, 10_000, 'run offline');
    await startAgents(hub, [{ name: 'second' }]);
    const retried = await waitFor(() => {
      const run = hub.runs.get(runId);
      return run && run.attempt === 2 && run.status === 'running' && run;
    }, 15_000, 'second attempt running');
    const log = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;

    expect(offline).toBeGreaterThan(0);
    expect(retried.agentId).not.toBe(firstId);
    expect(retried.previousAgentIds).toEqual([firstId]);
    expect(log).toContain('the agent was offline for more than 2 s');
  });

  it('ends a run as lost without retries left', async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 1000 } });
    const [agent] = await startAgents(hub, [{ name: 'only' }]);
    const task = await createShellTask(hub, orphanSafeSleep());
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 10_000, 'run started');

    agent?.process.kill('SIGKILL');
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'lost' && hub.runs.get(runId), 10_000, 'run lost');

    expect(run.finishedAt).not.toBeNull();
    expect(run.error).toContain('offline');
  });

  it('reconciles an agent restarted under the same id', async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 60_000 } });
    const [agent] = await startAgents(hub, [{ name: 'phoenix' }]);
    const task = await createShellTask(hub, orphanSafeSleep());
    const job = await createJob(hub, { name: 'forbid overlap', taskId: task.id });
    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 10_000, 'run started');

    agent?.process.kill('SIGKILL');
    const second = await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`);
    await startAgent(hub, { name: 'phoenix', dataDir: agent?.dataDir });
    await waitFor(() => hub.runs.get(runId)?.status === 'lost', 10_000, 'first run lost at reconnect');
    await waitFor(() => hub.runs.get(second.body.id)?.status === 'running', 10_000, 'second run running');

    const running = hub.store.runs.list({ jobId: job.id, limit: 10 }).filter((run) => run.status === 'running');
    expect(running.map((run) => run.id)).toEqual([second.body.id]);
    expect(hub.runs.get(runId)?.error).toContain('restarted');
  });
});
