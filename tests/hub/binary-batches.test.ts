import { afterEach, describe, expect, it } from 'vitest';
import { encodeEventBatch } from 'farmboy-agent/protocol';
import { cleanup } from '../helpers/fleet.js';
import { assignedRawRun } from '../security/helpers.js';

afterEach(cleanup);

/** Starts a run on a hand-made agent, with a sender of raw `events` payloads and the events of a whole run. */
async function assignedRun() {
  const { hub, agent, runId } = await assignedRawRun('agent-binary');
  const send = async (payload: unknown) => (await agent.socket.timeout(2_000).emitWithAck('events', payload)) as { acked: Record<string, number> };
  const at = Date.now();
  const events = [
    { runId, attempt: 1, seq: 1, at, type: 'started', pid: 4242 },
    { runId, attempt: 1, seq: 2, at, type: 'log', lines: [{ t: at, s: 'stdout', m: 'sent as bytes: "quoted", ünïcödé' }] },
    { runId, attempt: 1, seq: 3, at, type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false },
  ];
  return { hub, runId, send, events };
}

const encode = (events: unknown[]) => encodeEventBatch(events.map((event) => Buffer.from(JSON.stringify(event))));

describe('event batches as binary JSON', () => {
  it('applies an encoded batch', { timeout: 30_000 }, async () => {
    const { hub, runId, send, events } = await assignedRun();

    const reply = await send(encode(events));
    const log = (await hub.api<string>('GET', `/api/runs/${runId}/log`)).body;

    expect(reply.acked[runId]).toBe(3);
    expect(hub.runs.get(runId)?.status).toBe('succeeded');
    expect(log).toContain('sent as bytes: "quoted", ünïcödé');
  });

  it.each([
    ['text that is not JSON', Buffer.from('{"events":[')],
    ['JSON that is no batch', Buffer.from('{"events":[{"type":"finished"}]}')],
    ['bytes that are not UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ])('drops %s and keeps serving', { timeout: 30_000 }, async (_case, payload) => {
    const { hub, runId, send, events } = await assignedRun();

    const dropped = await send(payload).then(
      () => 'acknowledged',
      (error: unknown) => (error instanceof Error ? error.message : String(error)),
    );
    const afterDrop = hub.runs.get(runId)?.status;
    const reply = await send(encode(events));

    expect(dropped).toBe('operation has timed out');
    expect(afterDrop).toBe('assigned');
    expect(reply.acked[runId]).toBe(3);
  });
});
