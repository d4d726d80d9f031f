import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createShellTask, startAgent, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { countingTask } from './helpers/tasks.js';

afterEach(cleanup);

async function logOf(hub: TestHub, runId: string): Promise<string> {
  return (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
}

async function runTask(hub: TestHub, taskId: string): Promise<string> {
  return (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
}

describe('agent asked to stop', () => {
  it('finishes, cancels and reports its runs', { timeout: 60_000 }, async () => {
    const hub = await startTestHub({ timings: { agentGraceMs: 60_000 } });
    const [stopping] = await startAgents(hub, [{ name: 'stopping', env: { FARMBOY_STOP_GRACE_MS: '2000' } }]);
    const long = countingTask(10_000, 100);
    const { id: shortTask } = await createShellTask(hub, 'sleep 1\necho "short done"', 'short');
    const { id: longTask } = await createShellTask(hub, long.source, 'long');
    const { id: laterTask } = await createShellTask(hub, 'echo "later done"', 'later');
    const shortId = await runTask(hub, shortTask);
    const longId = await runTask(hub, longTask);
    await waitFor(() => hub.runs.get(shortId)?.status === 'running' && hub.runs.get(longId)?.status === 'running', 15_000, 'runs started');

    stopping?.process.kill('SIGTERM');
    await sleep(200);
    const laterId = await runTask(hub, laterTask);
    // Long enough for a hub that kept offering the run to the stopping agent to do it many times.
    await sleep(1_000);
    const offers = ((await logOf(hub, laterId)).match(/assigned to agent stopping/g) ?? []).length;
    const code = await stopping?.exited;
    await startAgent(hub, { name: 'fresh' });
    await waitFor(() => hub.runs.get(laterId)?.status === 'succeeded', 15_000, 'later run succeeded elsewhere');

    expect(code).toBe(0);
    expect(offers).toBeLessThanOrEqual(1);
    expect(hub.runs.get(shortId)?.status).toBe('succeeded');
    expect(hub.runs.get(longId)).toMatchObject({ status: 'cancelled', error: 'cancelled because the agent is stopping' });
    expect(long.alive()).toEqual([]);
    expect(await logOf(hub, shortId)).toContain('short done');
  });
});
