import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createShellTask, startAgent, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { childrenOf, commandName } from '../helpers/processes.js';

afterEach(cleanup);

/** Process ids of an agent's children that run /bin/sh: its warm shells while it is idle. */
function shellChildren(pid: number): number[] {
  return childrenOf(pid).filter((child) => commandName(child) === 'sh');
}

/** Runs a task that prints its shell's pid; returns the final status and that pid. */
async function runShell(hub: TestHub, taskId: string): Promise<{ status: string; pid: number }> {
  const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${taskId}/runs`, {})).body.id;
  const run = await waitFor(() => {
    const current = hub.runs.get(runId);
    return current?.status === 'succeeded' || current?.status === 'failed' ? current : undefined;
  }, 10_000, 'run final');
  const log = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
  return { status: run.status, pid: Number(/shell pid (\d+)/.exec(log)?.[1]) };
}

describe.runIf(process.platform === 'linux')('warm shells of a real agent', () => {
  it('starts a run in a shell it kept', async () => {
    const hub = await startTestHub();
    const agent = await startAgent(hub, { slots: 2 });
    const pid = agent.process.pid as number;
    const task = await createShellTask(hub, 'echo "shell pid $$"');
    const warm = await waitFor(() => shellChildren(pid).length === 2 && shellChildren(pid), 10_000, 'two warm shells');

    const run = await runShell(hub, task.id);

    expect(run.status).toBe('succeeded');
    expect(warm).toContain(run.pid);
  });

  it('keeps none when its environment sets SHELLOPTS', async () => {
    const hub = await startTestHub();
    const agent = await startAgent(hub, { slots: 2, env: { SHELLOPTS: 'keyword', LOG_LEVEL: 'info' } });
    const task = await createShellTask(hub, 'echo "shell pid $$"');
    await waitFor(() => agent.output().includes('warm shells off'), 10_000, 'warm shells off');

    const run = await runShell(hub, task.id);

    expect(run.status).toBe('succeeded');
    expect(shellChildren(agent.process.pid as number)).toEqual([]);
    expect(agent.output()).toContain("warm shells off because the agent's environment sets SHELLOPTS");
  });
});
