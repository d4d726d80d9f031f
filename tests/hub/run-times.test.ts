import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup } from '../helpers/fleet.js';
import { assignedRawRun } from '../security/helpers.js';

afterEach(cleanup);

/** Starts a run on a hand-made agent, with a sender of event batches and a reader of the run log. */
async function assignedRun() {
  const { hub, agent, runId } = await assignedRawRun('agent-late');
  const send = async (events: unknown[]) => (await agent.socket.timeout(10_000).emitWithAck('events', { events })) as { acked: Record<string, number> };
  const readLog = async () => (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;
  return { hub, runId, send, readLog };
}

/** Builds the events of attempt 1 of a run, each at `at`. */
function eventsOf(runId: string, at = Date.now()) {
  const base = { runId, attempt: 1, at };
  return {
    started: (seq: number, time = at) => ({ ...base, seq, at: time, type: 'started', pid: 4242 }),
    output: (seq: number, text: string) => ({ ...base, seq, type: 'log', lines: [{ t: Date.now(), s: 'stdout', m: text }] }),
    finished: (seq: number, time = at) => ({ ...base, seq, at: time, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false }),
  };
}

describe('late agent reports', () => {
  it('takes the end time from the agent', { timeout: 30_000 }, async () => {
    const { hub, runId, send } = await assignedRun();
    const startedAt = Date.now();
    const endedAt = startedAt + 200;
    const events = eventsOf(runId);

    // The agent reports the end 1.5 s after it happened, as after an outage.
    await sleep(1_500);
    await send([events.started(1, startedAt), events.finished(2, endedAt)]);
    const run = hub.runs.get(runId);

    expect(run?.status).toBe('succeeded');
    expect(run?.startedAt).toBe(startedAt);
    expect(run?.finishedAt).toBe(endedAt);
  });

  it('notes output that came after the end', { timeout: 30_000 }, async () => {
    const { runId, send, readLog } = await assignedRun();
    const events = eventsOf(runId);
    await send([events.started(1), events.output(2, 'stored'), events.finished(3)]);

    // A resend of an event the hub stored is no loss and gets no line.
    await send([events.output(2, 'stored')]);
    const afterResend = await readLog();
    await send([events.output(4, 'late 4')]);
    await send([events.output(5, 'late 5')]);
    const log = await readLog();

    expect(afterResend).not.toContain('was not stored');
    expect(log).not.toContain('late 4');
    expect(log.match(/output of attempt 1 that arrived after the attempt had ended was not stored/g)).toHaveLength(1);
  });

  it('continues past events the store lost', { timeout: 30_000 }, async () => {
    const { hub, runId, send, readLog } = await assignedRun();
    const events = eventsOf(runId);
    await send([events.started(1), events.output(2, 'line 2')]);

    // Events 3 and 4 were acknowledged once and dropped by the agent, then lost from the hub's store.
    const first = await send([events.output(5, 'line 5')]);
    const second = await send([events.output(5, 'line 5')]);
    await send([events.finished(6)]);
    const log = await readLog();

    expect(first.acked[runId]).toBe(2);
    expect(second.acked[runId]).toBe(5);
    expect(hub.runs.get(runId)?.status).toBe('succeeded');
    expect(log).toContain('events 3 to 4 of attempt 1 are missing');
    expect(log).toContain('line 5');
  });
});
