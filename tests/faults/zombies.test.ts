import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, startAgent, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

// A new PID namespace makes the agent (or the init before it) process 1 there, as in a container.
const NAMESPACE = ['unshare', '--pid', '--fork', '--kill-child', '--mount-proc'];
const canUnshare = process.platform === 'linux' && spawnSync(NAMESPACE[0] as string, [...NAMESPACE.slice(1), 'true']).status === 0;
// The shell waits for the agent and, while it waits, collects any exited child re-parented to it, as an init does.
const SHELL_INIT = ['sh', '-c', '"$@" & wait', 'init'];
const RUNS = 20;

/** Processes below `rootPid` in state Z, read from /proc. */
function zombiesBelow(rootPid: number): number {
  const parents = new Map<number, number>();
  const states = new Map<number, string>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      parents.set(Number(entry), Number(ppid));
      states.set(Number(entry), state as string);
    } catch {
      // The process ended while the list was read.
    }
  }
  const isBelow = (pid: number): boolean => {
    for (let parent = parents.get(pid); parent !== undefined && parent > 0; parent = parents.get(parent)) if (parent === rootPid) return true;
    return false;
  };
  return [...states].filter(([pid, state]) => state === 'Z' && isBelow(pid)).length;
}

/** Runs tasks that each leave a background child behind, and waits until those children have exited. */
async function runTasksLeavingChildren(hub: TestHub): Promise<void> {
  const task = await createShellTask(hub, '(sleep 0.2; true) &\necho "left a child behind"');
  const job = await createJob(hub, { name: 'leaves children', taskId: task.id, overlap: 'parallel', maxParallel: RUNS });
  const ids: string[] = [];
  for (let i = 0; i < RUNS; i += 1) ids.push((await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id);
  await waitFor(() => ids.every((id) => hub.runs.get(id)?.status === 'succeeded'), 30_000, 'runs succeeded');
  await new Promise((resolve) => setTimeout(resolve, 1000));
}

describe.skipIf(!canUnshare)('agent as process 1', () => {
  it('warns and leaves zombies without init', async () => {
    const hub = await startTestHub();
    const agent = await startAgent(hub, { wrapper: NAMESPACE });
    await waitFor(() => hub.service.listAgents().some((entry) => entry.status === 'online'), 15_000, 'agent online');

    await runTasksLeavingChildren(hub);

    expect(agent.output()).toContain('runs as process 1');
    expect(zombiesBelow(agent.process.pid as number)).toBeGreaterThan(0);
  });

  it('leaves no zombies under an init', async () => {
    const hub = await startTestHub();
    const agent = await startAgent(hub, { wrapper: [...NAMESPACE, ...SHELL_INIT] });
    await waitFor(() => hub.service.listAgents().some((entry) => entry.status === 'online'), 15_000, 'agent online');

    await runTasksLeavingChildren(hub);

    expect(agent.output()).not.toContain('runs as process 1');
    expect(zombiesBelow(agent.process.pid as number)).toBe(0);
  });
});
