import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, createShellTask, startTestHub, waitFor } from '../helpers/fleet.js';
import { connectRawAgent } from '../security/helpers.js';

afterEach(cleanup);

describe('late agent reports', () => {
  it('takes the end time from the agent', { timeout: 30_000 }, async () => {
    const hub = await startTestHub();
    const agent = await connectRawAgent(hub, 'agent-late', null, [], []);
    const assigned: string[] = [];
    agent.socket.on('assign', (assignment: { runId: string }) => assigned.push(assignment.runId));
    const task = await createShellTask(hub, 'sleep 1');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
    await waitFor(() => assigned.includes(runId), 10_000, 'the assignment');
    const startedAt = Date.now();
    const endedAt = startedAt + 200;

    // The agent reports the end 1.5 s after it happened, as after an outage.
    await sleep(1_500);
    const base = { runId, attempt: 1 };
    await agent.socket.timeout(10_000).emitWithAck('events', {
      events: [
        { ...base, seq: 1, at: startedAt, type: 'started', pid: 4242 },
        { ...base, seq: 2, at: endedAt, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false },
      ],
    });
    const run = hub.runs.get(runId);

    expect(run?.status).toBe('succeeded');
    expect(run?.startedAt).toBe(startedAt);
    expect(run?.finishedAt).toBe(endedAt);
  });

  it('notes output that came after the end', { timeout: 30_000 }, async () => {
    const hub = await startTestHub();
    const agent = await connectRawAgent(hub, 'agent-late', null, [], []);
    const assigned: string[] = [];
    agent.socket.on('assign', (assignment: { runId: string }) => assigned.push(assignment.runId));
    const task = await createShellTask(hub, 'sleep 1');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
    await waitFor(() => assigned.includes(runId), 10_000, 'the assignment');
    const base = { runId, attempt: 1, at: Date.now() };
    const output = (seq: number, text: string) => ({ ...base, seq, type: 'log', lines: [{ t: Date.now(), s: 'stdout', m: text }] });
    const finished = { ...base, seq: 3, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false };
    await agent.socket.timeout(10_000).emitWithAck('events', { events: [{ ...base, seq: 1, type: 'started', pid: 4242 }, output(2, 'stored'), finished] });

    // A resend of an event the hub stored is no loss and gets no line.
    await agent.socket.timeout(10_000).emitWithAck('events', { events: [output(2, 'stored')] });
    const afterResend = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
    await agent.socket.timeout(10_000).emitWithAck('events', { events: [output(4, 'late 4')] });
    await agent.socket.timeout(10_000).emitWithAck('events', { events: [output(5, 'late 5')] });
    const log = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;

    expect(afterResend).not.toContain('was not stored');
    expect(log).not.toContain('late 4');
    expect(log.match(/output of attempt 1 that arrived after the attempt had ended was not stored/g)).toHaveLength(1);
  });

  it('continues past events the store lost', { timeout: 30_000 }, async () => {
    const hub = await startTestHub();
    const agent = await connectRawAgent(hub, 'agent-gap', null, [], []);
    const assigned: string[] = [];
    agent.socket.on('assign', (assignment: { runId: string }) => assigned.push(assignment.runId));
    const task = await createShellTask(hub, 'sleep 1');
    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
    await waitFor(() => assigned.includes(runId), 10_000, 'the assignment');
    const base = { runId, attempt: 1, at: Date.now() };
    const output = (seq: number) => ({ ...base, seq, type: 'log', lines: [{ t: Date.now(), s: 'stdout', m: `line ${seq}` }] });
    const send = async (events: unknown[]) => (await agent.socket.timeout(10_000).emitWithAck('events', { events })) as { acked: Record<string, number> };
    await send([{ ...base, seq: 1, type: 'started', pid: 4242 }, output(2)]);

    // Events 3 and 4 were acknowledged once and dropped by the agent, then lost from the hub's store.
    const first = await send([output(5)]);
    const second = await send([output(5)]);
    await send([{ ...base, seq: 6, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false }]);
    const log = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;

    expect(first.acked[runId]).toBe(2);
    expect(second.acked[runId]).toBe(5);
    expect(hub.runs.get(runId)?.status).toBe('succeeded');
    expect(log).toContain('events 3 to 4 of attempt 1 are missing');
    expect(log).toContain('line 5');
  });
});
