import { mkdir, readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Outbox } from '../src/outbox.js';
import { ACK_ALL, type EncodedEventBatch, type RunEvent } from '../src/protocol/index.js';
import { Spool } from '../src/spool.js';
import { decodeBatch, makeTempDir, removeDir } from './helpers.js';

const RUN = { runId: 'run-a', attempt: 1 };
const silent = pino({ level: 'silent' });

/** Stands in for the hub: acknowledges every batch at once, or never, and keeps what it received. */
class RecordingHub {
  readonly events: RunEvent[] = [];
  acknowledge = true;

  readonly send = async (encoded: EncodedEventBatch): Promise<unknown> => {
    const batch = decodeBatch(encoded);
    this.events.push(...batch.events);
    if (!this.acknowledge) return new Promise(() => undefined);
    const acked: Record<string, number> = {};
    for (const event of batch.events) acked[event.runId] = Math.max(acked[event.runId] ?? 0, event.seq);
    return { acked, cancel: [] };
  };

  lines(): string[] {
    return this.events.flatMap((event) => (event.type === 'log' ? event.lines.map((line) => line.m) : []));
  }
}

async function until(condition: () => boolean, what: string): Promise<void> {
  for (let tries = 0; tries < 400; tries += 1) {
    if (condition()) return;
    await sleep(10);
  }
  throw new Error(`timed out waiting for ${what}`);
}

function line(text: string) {
  return { t: 1, s: 'stdout' as const, m: text };
}

async function segments(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith('.jsonl'));
}

describe('outbox with a spool', () => {
  let dataDir = '';
  let dir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
    dir = path.join(dataDir, 'outbox');
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  async function openOutbox(hub: RecordingHub, options: { maxBufferedBytes?: number } = {}) {
    const { spool, recovered } = await Spool.open({ dir, log: silent });
    const outbox = new Outbox({ send: hub.send, onCancel: () => undefined, log: silent, flushDelayMs: 5, retryDelayMs: 20, spool, ...options });
    return { outbox, spool, recovered };
  }

  it('resends spooled events after restart', async () => {
    const first = await openOutbox(new RecordingHub());
    first.outbox.push(RUN, { type: 'started', pid: 1 });
    for (let i = 0; i < 50; i += 1) first.outbox.pushLogLine(RUN, line(`line ${i}`));
    await first.outbox.flush(50);
    await first.outbox.settle();
    first.outbox.close();
    await first.spool.close();

    const hub = new RecordingHub();
    const second = await openOutbox(hub);
    second.outbox.recover(second.recovered, new Map([['run-a#1', 'processes ended']]));
    const listed = second.outbox.pendingRuns();
    second.outbox.resume({ 'run-a': 0 });
    await until(() => hub.events.some((event) => event.type === 'finished'), 'the finished event');

    expect(listed).toEqual([RUN]);
    expect(hub.lines()).toEqual(Array.from({ length: 50 }, (_, i) => `line ${i}`));
    expect(hub.events.map((event) => event.seq)).toEqual(hub.events.map((_, index) => index + 1));
    expect(hub.events.at(-1)).toMatchObject({ type: 'finished', status: 'lost', error: 'processes ended' });
    second.outbox.close();
    await second.spool.close();
  });

  it('numbers the interrupted end after the hub', async () => {
    const first = await openOutbox(new RecordingHub());
    first.outbox.push(RUN, { type: 'started', pid: 1 });
    first.outbox.push(RUN, { type: 'progress', percent: 5, message: null });
    await first.outbox.settle();
    first.outbox.close();
    await first.spool.close();

    const hub = new RecordingHub();
    const second = await openOutbox(hub);
    second.outbox.recover(second.recovered, new Map());
    second.outbox.resume({ 'run-a': 7 });
    await until(() => hub.events.length === 1, 'one event');

    expect(hub.events[0]).toMatchObject({ type: 'finished', seq: 8, status: 'lost' });
    second.outbox.close();
    await second.spool.close();
  });

  it('waits for the hub to name the run', async () => {
    const hub = new RecordingHub();
    const { outbox, spool } = await openOutbox(hub);
    outbox.recover([], new Map([['run-a#1', 'processes ended']]));

    outbox.resume({});
    await sleep(50);
    const sentBefore = hub.events.length;
    outbox.pause();
    outbox.resume({ 'run-a': 3 });
    await until(() => hub.events.length === 1, 'the finished event');

    expect(sentBefore).toBe(0);
    expect(hub.events[0]).toMatchObject({ type: 'finished', seq: 4, status: 'lost', error: 'processes ended' });
    outbox.close();
    await spool.close();
  });

  it('forgets recovered runs the hub abandoned', async () => {
    const first = await openOutbox(new RecordingHub());
    first.outbox.push(RUN, { type: 'started', pid: 1 });
    await first.outbox.settle();
    first.outbox.close();
    await first.spool.close();

    const hub = new RecordingHub();
    const second = await openOutbox(hub);
    second.outbox.recover(second.recovered, new Map());
    second.outbox.resume({ 'run-a': ACK_ALL });
    await sleep(50);

    expect(hub.events).toEqual([]);
    expect(second.outbox.pendingRuns()).toEqual([]);
    await until(() => second.spool.bytes === 0, 'an empty spool');
    second.outbox.close();
    await second.spool.close();
    expect(await segments(dir)).toEqual([]);
  });

  it('keeps memory bounded while the hub is away', async () => {
    const hub = new RecordingHub();
    const { outbox, spool } = await openOutbox(hub, { maxBufferedBytes: 64 * 1024 });
    let peak = 0;

    for (let i = 0; i < 20_000; i += 1) {
      outbox.pushLogLine(RUN, line(`line ${i} `.padEnd(100, '.')));
      if (i % 500 === 0) {
        await outbox.settle();
        await sleep(1);
        peak = Math.max(peak, outbox.bufferedBytes);
      }
    }
    await outbox.flush(10);
    await outbox.settle();
    const spooled = spool.bytes;
    outbox.resume({});
    await until(() => hub.lines().length === 20_000, 'every line at the hub');
    await until(() => spool.bytes === 0, 'an empty spool');

    expect(peak).toBeLessThan(2 * 64 * 1024 + 256 * 1024);
    expect(spooled).toBeGreaterThan(2_000_000);
    expect(hub.lines()).toEqual(Array.from({ length: 20_000 }, (_, i) => `line ${i} `.padEnd(100, '.')));
    outbox.close();
    await spool.close();
    expect(await segments(dir)).toEqual([]);
  });

  it('keeps sending when the spool cannot write', async () => {
    const hub = new RecordingHub();
    const { outbox, spool } = await openOutbox(hub);
    // A directory where the first segment file should go makes every append fail.
    await mkdir(path.join(dir, '0000000001.jsonl'));
    outbox.resume({});

    outbox.push(RUN, { type: 'started', pid: 1 });
    outbox.pushLogLine(RUN, line('still delivered'));
    await until(() => hub.lines().includes('still delivered'), 'the log line');
    await until(() => hub.events.some((event) => event.type === 'log' && event.lines.some((entry) => entry.s === 'system')), 'the system line');

    const system = hub.events.flatMap((event) => (event.type === 'log' ? event.lines.filter((entry) => entry.s === 'system') : []));
    expect(system[0]?.m).toContain('cannot write its outbox spool');
    expect(system[0]?.m).toContain('EISDIR');
    expect(hub.events[0]).toMatchObject({ type: 'started', seq: 1 });
    outbox.close();
    await spool.close();
  });

  it('sends nothing before it is spooled', async () => {
    const hub = new RecordingHub();
    hub.acknowledge = false;
    const { outbox, spool } = await openOutbox(hub);
    outbox.resume({});

    outbox.push(RUN, { type: 'started', pid: 1 });
    await until(() => hub.events.length === 1, 'the started event');
    const reopened = await Spool.open({ dir, log: silent });
    await reopened.spool.close();
    const onDisk = reopened.recovered;

    expect(onDisk.map((event) => [event.runId, event.seq, event.type])).toEqual([['run-a', 1, 'started']]);
    outbox.close();
    await spool.close();
  });
});
