import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { Outbox } from '../src/outbox.js';
import type { EncodedEventBatch, EventBatch, RunEvent } from '../src/protocol/index.js';
import { decodeBatch } from './helpers.js';

const RUN_A = { runId: 'run-a', attempt: 1 };

/**
 * Stands in for the hub: applies a run's events only in sequence, as the
 * hub does, and lets the test acknowledge the batches in flight one by one.
 */
class SequencedHub {
  readonly batches: EventBatch[] = [];
  readonly applied: RunEvent[] = [];
  private lastSeq = new Map<string, number>();
  private answers: { batch: EventBatch; resolve: (ack: unknown) => void }[] = [];

  readonly send = (encoded: EncodedEventBatch): Promise<unknown> => {
    const batch = decodeBatch(encoded);
    this.batches.push(batch);
    return new Promise((resolve) => this.answers.push({ batch, resolve }));
  };

  get waiting(): number {
    return this.answers.length;
  }

  /** Applies the oldest unanswered batch and acknowledges what it applied. */
  applyNext(): void {
    const answer = this.answers.shift();
    if (answer === undefined) return;
    const acked: Record<string, number> = {};
    for (const event of answer.batch.events) {
      const last = this.lastSeq.get(event.runId) ?? 0;
      if (event.seq === last + 1) {
        this.applied.push(event);
        this.lastSeq.set(event.runId, event.seq);
      }
      acked[event.runId] = this.lastSeq.get(event.runId) ?? 0;
    }
    answer.resolve({ acked, cancel: [] });
  }

  /** Starts counting a run's sequence again, as the hub does for its next attempt. */
  resetRun(runId: string): void {
    this.lastSeq.delete(runId);
  }

  /** Acknowledges the oldest unanswered batch with nothing applied, as a hub over its output rate does. */
  deferNext(): void {
    this.answers.shift()?.resolve({ acked: {}, cancel: [] });
  }

  appliedLines(): string[] {
    return this.applied.flatMap((event) => (event.type === 'log' ? event.lines.map((line) => line.m) : []));
  }
}

function makeOutbox(hub: SequencedHub, maxInFlight: number): Outbox {
  return new Outbox({
    send: hub.send,
    onCancel: () => undefined,
    log: pino({ level: 'silent' }),
    flushDelayMs: 5,
    retryDelayMs: 20,
    maxBatchBytes: 1_000,
    maxInFlight,
  });
}

async function until(condition: () => boolean): Promise<void> {
  for (let tries = 0; tries < 400; tries += 1) {
    if (condition()) return;
    await sleep(5);
  }
  throw new Error('condition not met within 2 s');
}

function pushLines(outbox: Outbox, count: number): string[] {
  const texts = Array.from({ length: count }, (_, index) => `line ${index} `.padEnd(60, '.'));
  for (const text of texts) outbox.pushLogLine(RUN_A, { t: 1, s: 'stdout', m: text });
  return texts;
}

describe('outbox window of batches in flight', () => {
  it.each([1, 3])('keeps %i batches in flight', async (maxInFlight) => {
    const hub = new SequencedHub();
    const outbox = makeOutbox(hub, maxInFlight);
    outbox.resume({});

    pushLines(outbox, 100);
    await until(() => hub.waiting === maxInFlight);
    await sleep(30);

    expect(hub.waiting).toBe(maxInFlight);
    outbox.close();
  });

  it('delivers every line once in order', async () => {
    const hub = new SequencedHub();
    const outbox = makeOutbox(hub, 3);
    outbox.resume({});

    const texts = pushLines(outbox, 200);
    while (hub.appliedLines().length < texts.length) {
      await until(() => hub.waiting >= 1);
      hub.applyNext();
    }

    expect(hub.appliedLines()).toEqual(texts);
    expect(await outbox.flush(500)).toBe(true);
    outbox.close();
  });

  it('keeps the next attempt past an old ack', async () => {
    const hub = new SequencedHub();
    const outbox = makeOutbox(hub, 1);
    outbox.resume({});
    outbox.push(RUN_A, { type: 'started', pid: 10 });
    outbox.push(RUN_A, { type: 'finished', status: 'failed', exitCode: 1, signal: null, error: 'exited with code 1', result: null, logTruncated: false });
    await until(() => hub.waiting === 1);

    // The retry starts on this agent while the ack of attempt 1's events is still on its way.
    outbox.push({ ...RUN_A, attempt: 2 }, { type: 'started', pid: 11 });
    while (hub.applied.length < 2) {
      await until(() => hub.waiting >= 1);
      hub.applyNext();
    }
    hub.resetRun(RUN_A.runId);
    await until(() => hub.waiting >= 1);
    hub.applyNext();

    expect(hub.applied.map((event) => [event.attempt, event.type])).toEqual([[1, 'started'], [1, 'finished'], [2, 'started']]);
    outbox.close();
  });

  it('resends the window after a deferred batch', async () => {
    const hub = new SequencedHub();
    const outbox = makeOutbox(hub, 3);
    outbox.resume({});
    const texts = pushLines(outbox, 200);
    await until(() => hub.waiting === 3);

    hub.deferNext();
    hub.applyNext();
    hub.applyNext();
    while (hub.appliedLines().length < texts.length) {
      await until(() => hub.waiting >= 1);
      hub.applyNext();
    }

    expect(hub.appliedLines()).toEqual(texts);
    const firstSeqs = hub.batches.map((batch) => batch.events[0]?.seq);
    expect(firstSeqs[3]).toBe(firstSeqs[0]);
    outbox.close();
  });

  it('sends a state change while batches wait', async () => {
    const hub = new SequencedHub();
    const outbox = makeOutbox(hub, 2);
    outbox.resume({});
    outbox.pushLogLine(RUN_A, { t: 1, s: 'stdout', m: 'first' });
    await until(() => hub.waiting === 1);

    outbox.push({ runId: 'run-b', attempt: 1 }, { type: 'started', pid: 7 });
    await until(() => hub.waiting === 2);

    expect(hub.batches[1]?.events.map((event) => [event.runId, event.type])).toEqual([['run-b', 'started']]);
    outbox.close();
  });
});
