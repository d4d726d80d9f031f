import { cp, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createJob, createShellTask, startAgents, startTestHub, tempDir, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

async function runJob(hub: TestHub, jobId: string): Promise<string> {
  return (await hub.api<{ id: string }>('POST', `/api/jobs/${jobId}/runs`)).body.id;
}

async function waitFinal(hub: TestHub, runId: string, timeoutMs = 20_000): Promise<Run> {
  return waitFor(() => {
    const run = hub.runs.get(runId);
    return run && ['succeeded', 'failed', 'timed_out', 'cancelled', 'lost'].includes(run.status) && run;
  }, timeoutMs, `run ${runId} final`);
}

/** Deletes a job and then its task, which the hub allows only once no job uses the task. */
async function deleteJobAndTask(hub: TestHub, jobId: string, taskId: string): Promise<void> {
  expect((await hub.api('DELETE', `/api/jobs/${jobId}`)).status).toBe(204);
  expect((await hub.api('DELETE', `/api/tasks/${taskId}`)).status).toBe(204);
}

describe('runs whose task was deleted', () => {
  it('end without retries while running', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'only' }]);
    const task = await createShellTask(hub, 'sleep 1; exit 1');
    const job = await createJob(hub, { name: 'doomed', taskId: task.id, retries: 3, retryDelaySec: 0 });
    const runId = await runJob(hub, job.id);
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 10_000, 'run started');

    await deleteJobAndTask(hub, job.id, task.id);
    const run = await waitFinal(hub, runId);

    expect(run.status).toBe('failed');
    expect(run.attempt).toBe(1);
    expect(run.error).toContain('not retried because its task was deleted');
    expect(run.waitingReason).toBeNull();
  });
});

describe('final runs', () => {
  it('have no waiting reason after retries', async () => {
    const hub = await startTestHub();
    await startAgents(hub, [{ name: 'only' }]);
    const task = await createShellTask(hub, 'exit 1');
    const job = await createJob(hub, { name: 'failing', taskId: task.id, retries: 2, retryDelaySec: 0 });

    const run = await waitFinal(hub, await runJob(hub, job.id));

    expect(run.status).toBe('failed');
    expect(run.attempt).toBe(3);
    expect(run.waitingReason).toBeNull();
  });
});

describe('runs with an unreadable secret', () => {
  it('fail before reaching an agent', async () => {
    // A job saved by a hub whose data directory later got another secret key.
    const firstDir = await tempDir('hub-first');
    const first = await startTestHub({ dataDir: firstDir });
    const task = await createShellTask(first, 'test -n "$API_KEY"');
    const job = await createJob(first, { name: 'sealed', taskId: task.id, retries: 2, env: { API_KEY: 'opensesame', PLAIN: 'x' }, secretEnv: ['API_KEY'] });
    await first.stop();
    const dataDir = await tempDir('hub-rekeyed');
    await cp(firstDir, dataDir, { recursive: true });
    await rm(join(dataDir, 'secret-key'));
    const hub = await startTestHub({ dataDir });
    await startAgents(hub, [{ name: 'only' }]);

    const run = await waitFinal(hub, await runJob(hub, job.id));
    const log = (await hub.api<string>('GET', `/api/runs/${run.id}/log`)).body;

    expect(run.status).toBe('failed');
    expect(run.attempt).toBe(1);
    expect(run.error).toContain('API_KEY');
    expect(run.error).toContain('Enter its value again in the job');
    expect(run.agentId).toBeNull();
    expect(run.startedAt).toBeNull();
    expect(log).not.toContain('assigned to agent');
  });
});
