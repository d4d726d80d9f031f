import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Outbox, type OutboxOptions } from '../src/outbox.js';
import { ACK_ALL, eventBatchSchema, type EncodedEventBatch, type EventBatch, type RunEvent, type RunRef } from '../src/protocol/index.js';
import { decodeBatch } from './helpers.js';

const RUN_A = { runId: 'run-a', attempt: 1 };
const RUN_B = { runId: 'run-b', attempt: 1 };

/** Stands in for the hub: records each batch and lets the test acknowledge or fail it. */
class FakeHub {
  readonly batches: EventBatch[] = [];
  private answers: { resolve: (ack: unknown) => void; reject: (error: Error) => void }[] = [];

  readonly send = (encoded: EncodedEventBatch): Promise<unknown> => {
    this.batches.push(decodeBatch(encoded));
    return new Promise((resolve, reject) => this.answers.push({ resolve, reject }));
  };

  /** Acknowledges the oldest unanswered batch with the highest seq of each of its runs. */
  ackAll(cancel: RunRef[] = []): void {
    const batch = this.batches[this.batches.length - this.answers.length];
    const acked: Record<string, number> = {};
    for (const event of batch?.events ?? []) acked[event.runId] = Math.max(acked[event.runId] ?? 0, event.seq);
    this.answers.shift()?.resolve({ acked, cancel });
  }

  answer(ack: unknown): void {
    this.answers.shift()?.resolve(ack);
  }

  fail(): void {
    this.answers.shift()?.reject(new Error('operation has timed out'));
  }

  get waiting(): number {
    return this.answers.length;
  }

  allEvents(): RunEvent[] {
    return this.batches.flatMap((batch) => batch.events);
  }
}

function makeOutbox(hub: FakeHub, options: Partial<OutboxOptions> = {}): { outbox: Outbox; cancelled: RunRef[] } {
  const cancelled: RunRef[] = [];
  const outbox = new Outbox({
    send: hub.send,
    onCancel: (refs) => cancelled.push(...refs),
    log: pino({ level: 'silent' }),
    flushDelayMs: 5,
    retryDelayMs: 20,
    ...options,
  });
  return { outbox, cancelled };
}

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; tries < 200; tries += 1) {
    if (condition()) return;
    await sleep(5);
  }
  throw new Error('condition not met within 1 s');
}

function line(text: string) {
  return { t: 1, s: 'stdout' as const, m: text };
}

describe('Outbox', () => {
  it('numbers events per run', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.resume({});

    outbox.push(RUN_A, { type: 'started', pid: 10 });
    outbox.pushLogLine(RUN_A, line('one'));
    outbox.pushLogLine(RUN_A, line('two'));
    outbox.push(RUN_B, { type: 'started', pid: 11 });
    outbox.push(RUN_A, { type: 'progress', percent: 5, message: null });
    outbox.pushRecord(RUN_A, { n: 1 });
    await until(() => hub.batches.length === 1);

    const events = hub.allEvents();
    expect(events.map((event) => [event.runId, event.seq, event.type])).toEqual([
      ['run-a', 1, 'started'],
      ['run-b', 1, 'started'],
      ['run-a', 2, 'log'],
      ['run-a', 3, 'progress'],
      ['run-a', 4, 'records'],
    ]);
    expect(events[2]).toMatchObject({ type: 'log', lines: [line('one'), line('two')] });
    expect(eventBatchSchema.safeParse(hub.batches[0]).success).toBe(true);
    outbox.close();
  });

  it('keeps batches under the byte limit', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub, { maxBatchBytes: 4_000 });
    outbox.resume({});

    for (let i = 0; i < 200; i += 1) outbox.pushLogLine(RUN_A, line(`line ${i} `.padEnd(100, '.')));
    while (hub.allEvents().flatMap((event) => (event.type === 'log' ? event.lines : [])).length < 200) {
      await until(() => hub.waiting >= 1);
      hub.ackAll();
    }

    expect(hub.batches.length).toBeGreaterThan(4);
    for (const batch of hub.batches) expect(Buffer.byteLength(JSON.stringify(batch))).toBeLessThanOrEqual(4_000);
    const texts = hub.allEvents().flatMap((event) => (event.type === 'log' ? event.lines.map((l) => l.m) : []));
    expect(texts).toEqual(Array.from({ length: 200 }, (_, i) => `line ${i} `.padEnd(100, '.')));
    const seqs = hub.allEvents().map((event) => event.seq);
    expect(seqs).toEqual(seqs.map((_, index) => index + 1));
    outbox.close();
  });

  it('resends after a failed ack', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    await until(() => hub.waiting === 1);

    hub.fail();
    await until(() => hub.waiting === 1);

    expect(hub.batches).toHaveLength(2);
    expect(hub.batches[1]).toEqual(hub.batches[0]);
    outbox.close();
  });

  it('resends after a reconnect from the acked point', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    outbox.push(RUN_A, { type: 'progress', percent: 10, message: null });
    outbox.push(RUN_A, { type: 'progress', percent: 20, message: null });
    await until(() => hub.waiting === 1);

    outbox.pause();
    expect(outbox.pendingRuns()).toEqual([RUN_A]);
    outbox.resume({ 'run-a': 2 });
    await until(() => hub.batches.length === 2);

    expect(hub.batches[1]?.events.map((event) => event.seq)).toEqual([3]);
    outbox.close();
  });

  it('drops events once acknowledged', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    outbox.push(RUN_A, { type: 'finished', status: 'succeeded', exitCode: 0, signal: null, error: null, result: null, logTruncated: false });
    await until(() => hub.waiting === 1);
    const bytesBefore = outbox.bufferedBytes;

    hub.ackAll();
    await until(() => outbox.bufferedBytes === 0);

    expect(bytesBefore).toBeGreaterThan(0);
    expect(outbox.pendingRuns()).toEqual([]);
    expect(await outbox.flush(100)).toBe(true);
    outbox.close();
  });

  it('retries after a partial ack', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    outbox.push(RUN_A, { type: 'progress', percent: 10, message: null });
    await until(() => hub.waiting === 1);

    hub.answer({ acked: { 'run-a': 1 }, cancel: [] });
    await until(() => hub.batches.length === 2);

    expect(hub.batches[1]?.events.map((event) => event.seq)).toEqual([2]);
    outbox.close();
  });

  it.each([
    { name: 'a malformed ack', ack: { acked: 'all' } },
    { name: 'a missing ack', ack: undefined },
  ])('ignores $name and retries', async ({ ack }) => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    await until(() => hub.waiting === 1);

    hub.answer(ack);
    await until(() => hub.batches.length === 2);

    expect(hub.batches[1]).toEqual(hub.batches[0]);
    outbox.close();
  });

  it('honours cancel lists in acks', async () => {
    const hub = new FakeHub();
    const { outbox, cancelled } = makeOutbox(hub);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    await until(() => hub.waiting === 1);

    hub.ackAll([RUN_B]);
    await until(() => cancelled.length === 1);

    expect(cancelled).toEqual([RUN_B]);
    outbox.close();
  });

  it('abandons a run acked with ACK_ALL', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.push(RUN_A, { type: 'started', pid: 1 });
    outbox.pushLogLine(RUN_A, line('lost cause'));

    outbox.resume({ 'run-a': ACK_ALL });
    outbox.push(RUN_A, { type: 'progress', percent: 1, message: null });
    await sleep(30);

    expect(hub.batches).toEqual([]);
    expect(outbox.pendingRuns()).toEqual([]);
    expect(outbox.bufferedBytes).toBe(0);
    outbox.close();
  });

  it('sends nothing while paused', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);

    outbox.push(RUN_A, { type: 'started', pid: 1 });
    await sleep(30);
    const sentWhilePaused = hub.batches.length;
    outbox.resume({});
    await until(() => hub.batches.length === 1);

    expect(sentWhilePaused).toBe(0);
    outbox.close();
  });

  it('reports pressure until relieved', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub, { maxBufferedBytes: 2_000 });
    let relieved = false;

    for (let i = 0; i < 40; i += 1) outbox.pushLogLine(RUN_A, line('x'.repeat(80)));
    const pressuredAfterPush = outbox.isUnderPressure;
    outbox.onceRelieved(() => {
      relieved = true;
    });
    outbox.resume({});
    await until(() => hub.waiting === 1);
    hub.ackAll();
    await until(() => relieved);

    expect(pressuredAfterPush).toBe(true);
    expect(outbox.isUnderPressure).toBe(false);
    outbox.close();
  });

  it('drops the old attempt for a new one', async () => {
    const hub = new FakeHub();
    const { outbox } = makeOutbox(hub);
    outbox.push(RUN_A, { type: 'started', pid: 1 });

    outbox.push({ runId: 'run-a', attempt: 2 }, { type: 'started', pid: 2 });
    outbox.push(RUN_A, { type: 'progress', percent: 1, message: null });
    outbox.resume({});
    await until(() => hub.batches.length === 1);

    expect(hub.allEvents().map((event) => [event.attempt, event.seq, event.type])).toEqual([[2, 1, 'started']]);
    outbox.close();
  });
});
