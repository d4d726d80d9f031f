import { afterEach, describe, expect, it } from 'vitest';
import { LIMITS } from 'farmboy-agent/protocol';
import { MAX_BATCH_BYTES } from '../../electron/hub/event-limits.js';
import { cleanup, createShellTask, startAgents, startTestHub, waitFor, type TestHub } from '../helpers/fleet.js';
import { captureLog, connectRawAgent, type RawAgent } from './helpers.js';

afterEach(cleanup);

interface Ack {
  acked: Record<string, number>;
}

/** Connects a raw agent, gives it one run of a shell task, and returns a sender of events for that run. */
async function agentWithRun(hub: TestHub) {
  const agent: RawAgent = await connectRawAgent(hub, 'limits-agent', null, [], ['raw']);
  const task = await createShellTask(hub, 'true');
  const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, { tags: ['raw'] })).body.id;
  await waitFor(() => hub.runs.get(runId)?.status === 'assigned', 10_000, 'run assigned');
  let seq = 0;
  const event = (body: Record<string, unknown>) => ({ runId, attempt: 1, seq: ++seq, at: Date.now(), ...body });
  const send = async (events: unknown[]) => (await agent.socket.timeout(8_000).emitWithAck('events', { events })) as Ack;
  return { agent, runId, event, send };
}

async function storedLog(hub: TestHub, runId: string): Promise<Array<{ s: string; m: string }>> {
  const text = (await hub.api<string>('GET', `/api/runs/${runId}/log?format=jsonl`)).body;
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as { s: string; m: string });
}

describe('size limits on receipt', () => {
  it('cuts long lines and drops big records', async () => {
    const hub = await startTestHub();
    const { runId, event, send } = await agentWithRun(hub);

    await send([event({ type: 'started', pid: 1 })]);
    const logAck = await send([event({ type: 'log', lines: [{ t: 1, s: 'stdout', m: 'é'.repeat(60_000) }, { t: 2, s: 'stdout', m: 'short' }] })]);
    const recordAck = await send([event({ type: 'records', records: [{ small: 1 }, { big: 'r'.repeat(LIMITS.maxRecordBytes) }] })]);
    const droppedAck = await send([event({ type: 'records', records: ['q'.repeat(LIMITS.maxRecordBytes + 10)] })]);
    await send([event({ type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false })]);
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 10_000, 'run finished');

    expect([logAck.acked[runId], recordAck.acked[runId], droppedAck.acked[runId]]).toEqual([2, 3, 4]);
    const lines = await storedLog(hub, runId);
    const long = lines.find((line) => line.m.startsWith('é'));
    expect(Buffer.byteLength(long?.m ?? '')).toBeLessThanOrEqual(LIMITS.maxLineBytes + 1024);
    expect(long?.m).toContain('[line cut by the hub: over the line size limit]');
    expect(lines.some((line) => line.m === 'short')).toBe(true);
    expect(lines.some((line) => line.s === 'system' && line.m.includes('1 record(s) dropped by the hub'))).toBe(true);
    const records = (await hub.api<string>('GET', `/api/runs/${runId}/records`)).body.trim().split('\n');
    expect(records).toEqual(['{"small":1}']);
  });

  it('applies an oversized batch in part', async () => {
    const hub = await startTestHub();
    const { runId, event, send } = await agentWithRun(hub);
    await send([event({ type: 'started', pid: 1 })]);
    const big = () => event({ type: 'log', lines: [{ t: 1, s: 'stdout', m: 'b'.repeat(200_000) }] });

    const first = await send([big(), big(), big(), big()]);
    const resent = await send([{ ...big(), seq: 4 }, { ...big(), seq: 5 }]);

    expect(MAX_BATCH_BYTES).toBeLessThan(3 * 200_000);
    expect(first.acked[runId]).toBe(3);
    expect(resent.acked[runId]).toBe(5);
    expect(hub.runs.get(runId)?.lastSeq).toBe(5);
  });
});

describe('output rate per agent', () => {
  it('defers a flood sent without waiting', async () => {
    const log = captureLog();
    const hub = await startTestHub({ logger: log.logger, outputRate: { bytesPerSec: 50_000, burstBytes: 100_000, maxAckDelayMs: 300 } });
    const { runId, event, agent } = await agentWithRun(hub);
    const line = { t: 1, s: 'stdout', m: 'f'.repeat(15_000) };
    const batch = (seq: number) => ({ events: [{ ...event({ type: 'log', lines: Array(10).fill(line) }), seq }] });

    const acks = (await Promise.all(Array.from({ length: 6 }, (_, index) => agent.socket.timeout(8_000).emitWithAck('events', batch(index + 1))))) as Ack[];

    expect(acks.some((ack) => ack.acked[runId] === undefined)).toBe(true);
    expect(log.entries('agent far over its output rate, batch deferred')[0]).toMatchObject({ agentId: 'limits-agent' });
  });

  it('slows a real agent without losing lines', async () => {
    const hub = await startTestHub({ outputRate: { bytesPerSec: 100_000, burstBytes: 50_000, maxAckDelayMs: 2_000 } });
    await startAgents(hub, [{ name: 'chatty' }]);
    const task = await createShellTask(hub, 'i=1; while [ $i -le 3000 ]; do echo "line $i of the flood, padded to about one hundred bytes ............................"; i=$((i+1)); done');

    const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${task.id}/runs`, {})).body.id;
    await waitFor(() => hub.runs.get(runId)?.status === 'succeeded', 30_000, 'flood finished');

    const lines = (await storedLog(hub, runId)).filter((line) => line.s === 'stdout');
    expect(lines).toHaveLength(3000);
    expect(lines.at(-1)?.m).toContain('line 3000 of the flood');
  });
});
