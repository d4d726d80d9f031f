import { io } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { AGENT_NAMESPACE, PROTOCOL_VERSION } from 'farmboy-agent/protocol';
import type { Run } from '../../electron/hub/model.js';
import { cleanup, createJob, createShellTask, onCleanup, rawAgentOptions, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

/** Lists the runs that have not failed yet, with their logs, for a failure message. */
async function describeUnfinished(hub: TestHub, ids: readonly string[]): Promise<string> {
  const lines: string[] = [];
  for (const id of ids) {
    const run = hub.runs.get(id);
    if (run?.status === 'failed') continue;
    lines.push(`run ${id}: ${run?.status} attempt ${run?.attempt}`, (await hub.api<string>('GET', `/api/runs/${id}/log`)).body);
  }
  return lines.join('\n');
}

describe('retries on a single agent', () => {
  // The agent applies an acknowledgement to a run id whatever the attempt, so a retry on the same agent can lose its
  // `started` event to a late acknowledgement of the previous attempt's end, and stay assigned.
  const cases = [
    { name: '2 retries at once, 4 slots', retries: 2, retryDelaySec: 0, slots: 4 },
    { name: '2 retries at once, 1 slot', retries: 2, retryDelaySec: 0, slots: 1 },
    { name: '3 retries at once, 2 slots', retries: 3, retryDelaySec: 0, slots: 2 },
    { name: '2 retries after 1 s, 1 slot', retries: 2, retryDelaySec: 1, slots: 1 },
  ];

  it.each(cases)('reaches the last attempt: $name', async ({ retries, retryDelaySec, slots }) => {
    const hub = await startTestHub();
    const [agent] = await startAgents(hub, [{ name: 'only', slots }]);
    const task = await createShellTask(hub, 'echo failing; exit 1');
    const job = await createJob(hub, { name: 'failing', taskId: task.id, retries, retryDelaySec, overlap: 'parallel', maxParallel: 10 });

    const ids: string[] = [];
    for (let round = 0; round < 15; round += 1) {
      ids.push((await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id);
    }
    await waitFor(() => ids.every((id) => hub.runs.get(id)?.status === 'failed'), 25_000, 'every run failed').catch(async (error: Error) => {
      throw new Error(`${error.message}\n${await describeUnfinished(hub, ids)}\nagent output:\n${agent?.output()}`);
    });

    const runs = ids.map((id) => hub.runs.get(id) as Run);
    for (const run of runs) expect(run.attempt).toBe(retries + 1);
  }, 40_000);
});

describe('assignment replies', () => {
  it('move past a duplicate attempt', async () => {
    const hub = await startTestHub();
    const agent = io(`${hub.agentUrl}${AGENT_NAMESPACE}`, {
      auth: { protocolVersion: PROTOCOL_VERSION, agentId: 'forgetful-agent', name: 'forgetful', version: '0.0.0', token: hub.agentToken },
      ...rawAgentOptions(hub),
    });
    onCleanup(() => void agent.close());
    const received: number[] = [];
    // An agent that had each attempt before, as after the hub queued an attempt again that the agent had taken.
    agent.on('assign', (assignment: { attempt: number }, ack: (reply: unknown) => void) => {
      received.push(assignment.attempt);
      ack({ accepted: false, reason: 'duplicate' });
    });
    await new Promise<void>((resolve) => agent.on('connect', () => resolve()));
    await agent.timeout(5000).emitWithAck('hello', {
      facts: { hostname: 'forgetful', platform: 'linux', arch: 'x64', cpus: 2, memoryBytes: 1e9, nodeVersion: 'v20' },
      tags: [], slots: 2, maxLoad: null, runs: [],
    });
    const task = await createShellTask(hub, 'true');
    const job = await createJob(hub, { name: 'repeated', taskId: task.id, retries: 1, retryDelaySec: 0 });

    const runId = (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
    const run = await waitFor(() => hub.runs.get(runId)?.status === 'lost' && hub.runs.get(runId), 10_000, 'run lost');

    expect(received).toEqual([1, 2]);
    expect(run.attempt).toBe(2);
    expect(run.error).toBe('agent forgetful had already received attempt 2 and does not run it again');
  });
});
