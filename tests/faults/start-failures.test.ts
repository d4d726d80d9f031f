import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { AgentView, Run } from '../../electron/hub/model.js';
import { cleanup, createJob, createShellTask, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { canMount, mountSmallDisk } from './helpers/disk.js';

afterEach(cleanup);

async function runJob(hub: TestHub, jobId: string): Promise<string> {
  return (await hub.api<{ id: string }>('POST', `/api/jobs/${jobId}/runs`)).body.id;
}

async function agentView(hub: TestHub, name: string): Promise<AgentView | undefined> {
  return (await hub.api<AgentView[]>('GET', '/api/agents')).body.find((agent) => agent.name === name);
}

// NOTE: this test mounts a tmpfs, which needs root or CAP_SYS_ADMIN; elsewhere it is skipped.
describe.runIf(canMount)('agent whose runs fail to start', () => {
  it('is left out until the user resumes it', { timeout: 90_000 }, async () => {
    const hub = await startTestHub();
    const disk = await mountSmallDisk(4 * 1024 * 1024);
    await startAgents(hub, [{ name: 'cramped', slots: 2, dataDir: join(disk.dir, 'agent') }]);
    const task = await createShellTask(hub, 'echo fine');
    const job = await createJob(hub, { name: 'no retries', taskId: task.id, retries: 0, overlap: 'parallel', maxParallel: 5 });
    await disk.fill();

    // Runs may still start while the agent has scratch directories made ahead; the full disk stops the rest.
    const failed: Run[] = [];
    for (let round = 0; round < 20 && ((await agentView(hub, 'cramped'))?.unhealthy ?? null) === null; round += 1) {
      const runId = await runJob(hub, job.id);
      const run = await waitFor(() => {
        const current = hub.runs.get(runId);
        return current && (current.status === 'failed' || current.status === 'succeeded') && current;
      }, 15_000, 'run ended');
      if (run.status === 'failed') failed.push(run);
    }
    const unhealthy = await agentView(hub, 'cramped');
    const checkedAt = Date.now();
    const waitingId = await runJob(hub, job.id);
    const waiting = await waitFor(() => hub.runs.get(waitingId)?.waitingReason, 5_000, 'waiting reason');
    await disk.free();
    const resumed = await hub.api<AgentView>('POST', `/api/agents/${unhealthy?.id}/resume`);
    const afterResume = await waitFor(() => {
      const run = hub.runs.get(waitingId);
      return run && run.status === 'succeeded' && run;
    }, 20_000, 'waiting run succeeded after resume');

    expect(failed.length).toBeGreaterThanOrEqual(3);
    for (const run of failed.slice(-3)) expect(run.error).toMatch(/^could not start the task: .*ENOSPC/);
    expect(unhealthy?.status).toBe('online');
    expect(unhealthy?.unhealthy?.reason).toMatch(/^3 runs failed to start: could not start the task: .*ENOSPC/);
    expect(unhealthy?.unhealthy?.until).toBeGreaterThan(checkedAt);
    expect(afterResume.agentId).toBe(unhealthy?.id);
    expect(waiting).toContain('agent cramped is unhealthy until');
    expect(waiting).toContain('ENOSPC');
    expect(resumed.body.unhealthy).toBeNull();
  });
});
