import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createJob, createShellTask, startAgent, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';

afterEach(cleanup);

async function startRun(hub: TestHub, source: string): Promise<string> {
  const task = await createShellTask(hub, source);
  const job = await createJob(hub, { name: 'follow me', taskId: task.id });
  return (await hub.api<{ id: string }>('POST', `/api/jobs/${job.id}/runs`)).body.id;
}

function follow(hub: TestHub, runId: string, signal?: AbortSignal): Promise<Response> {
  return fetch(`${hub.uiUrl}/api/runs/${runId}/log?follow=1&format=jsonl`, { headers: { authorization: `Bearer ${hub.adminToken}` }, signal });
}

function messages(body: string): string[] {
  return body.split('\n').filter(Boolean).map((line) => (JSON.parse(line) as { m: string }).m);
}

describe('following a run log over HTTP', () => {
  it('streams every line once until the run ends', async () => {
    const hub = await startTestHub();
    await startAgent(hub);
    const runId = await startRun(hub, 'for i in $(seq 1 40); do echo "line $i"; sleep 0.02; done');
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 10_000, 'run started');

    const response = await follow(hub, runId);
    const body = await response.text();

    expect(response.status).toBe(200);
    expect(hub.runs.get(runId)?.status).toBe('succeeded');
    const stored = messages((await hub.api<string>('GET', `/api/runs/${runId}/log?format=jsonl`)).body);
    expect(messages(body)).toEqual(stored);
    expect(stored.filter((line) => line.startsWith('line '))).toHaveLength(40);
  });

  it('returns the whole log of a final run', async () => {
    const hub = await startTestHub();
    await startAgent(hub);
    const runId = await startRun(hub, 'echo one; echo two');
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 10_000, 'run succeeded');

    const body = await (await follow(hub, runId)).text();

    expect(messages(body)).toEqual(expect.arrayContaining(['one', 'two']));
  });

  it('answers 404 for an unknown run', async () => {
    const hub = await startTestHub();

    const response = await follow(hub, 'no-such-run');

    expect(response.status).toBe(404);
  });

  it('stops listening when the client leaves', async () => {
    const hub = await startTestHub();
    await startAgent(hub);
    const runId = await startRun(hub, 'echo started; sleep 30');
    await waitFor(() => hub.runs.get(runId)?.status === 'running', 10_000, 'run started');
    const listenersBefore = hub.runs.listenerCount('log');
    const leave = new AbortController();

    const response = await follow(hub, runId, leave.signal);
    const reader = response.body?.getReader();
    await reader?.read();
    await waitFor(() => hub.runs.listenerCount('log') === listenersBefore + 1, 5_000, 'follower listening');
    leave.abort();

    await waitFor(() => hub.runs.listenerCount('log') === listenersBefore, 5_000, 'follower gone');
    await hub.api('POST', `/api/runs/${runId}/cancel`);
  });
});
