/**
 * Sends random, malformed, oversized and out-of-order messages to a real hub
 * over real sockets, for a fixed number of iterations from a fixed seed. The
 * hub must keep serving, runs must change state only as the protocol
 * allows, and memory must return near its baseline.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import type { Socket } from 'socket.io-client';
import { afterEach, describe, expect, it } from 'vitest';
import { runEventSchema, type RunEvent } from 'farmboy-agent/protocol';
import { isFinal, type Run, type RunStatus } from '../../electron/hub/model.js';
import { cleanup, createShellTask, onCleanup, startAgents, startTestHub, waitFor } from '../helpers/fleet.js';
import { killProcessesWith, uniqueDurations } from '../helpers/processes.js';
import { connectRawAgent } from './helpers.js';

afterEach(cleanup);

const SEED = 20_240_611;
const ITERATIONS = 600;
const WARM_UP = 100;
/** Heap growth allowed after the fuzzing, once garbage is collected. */
const MAX_HEAP_GROWTH_BYTES = 32 * 1024 * 1024;

setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;

/** A small deterministic generator (mulberry32), so a failure can be replayed. */
function generator(seed: number) {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (min: number, max: number) => min + Math.floor(next() * (max - min + 1));
  const pick = <T,>(list: readonly T[]): T => list[int(0, list.length - 1)] as T;
  return { next, int, pick };
}
type Random = ReturnType<typeof generator>;

const FIELD_NAMES = ['runId', 'attempt', 'seq', 'at', 'type', 'lines', 'records', 'status', 'events', 'facts', 'tags', 'slots', 'runs', 'load', 'm', 's', 't'];

function randomValue(random: Random, depth = 0): unknown {
  const roll = random.next();
  if (depth > 3 || roll < 0.4) {
    return random.pick([null, true, false, -1, 0, 1.5, 2 ** 53, -(2 ** 40), '', 'x'.repeat(random.int(1, 300)), '\u0000\uffff', '🐄', [], {}]);
  }
  if (roll < 0.7) return Array.from({ length: random.int(0, 5) }, () => randomValue(random, depth + 1));
  return Object.fromEntries(Array.from({ length: random.int(0, 5) }, () => [random.pick(FIELD_NAMES), randomValue(random, depth + 1)]));
}

/** Builds a valid event of a run, or one with a field replaced or removed. */
function randomEvent(random: Random, runId: string, attempt: number, seq: number): Record<string, unknown> {
  const base = { runId, attempt, seq, at: Date.now() };
  const event: Record<string, unknown> = random.pick([
    { ...base, type: 'started', pid: 1234 },
    { ...base, type: 'log', lines: [{ t: Date.now(), s: 'stdout', m: `fuzz line ${seq}` }] },
    { ...base, type: 'log', lines: [{ t: Date.now(), s: 'stderr', m: 'y'.repeat(random.int(17_000, 120_000)) }] },
    { ...base, type: 'progress', percent: random.int(0, 100), message: null },
    { ...base, type: 'records', records: [{ n: seq }, 'z'.repeat(random.int(10, 70_000))] },
    { ...base, type: 'finished', status: random.pick(['succeeded', 'failed', 'timed_out', 'cancelled']), exitCode: 0, signal: null, error: null, result: null, logTruncated: false },
  ]);
  if (random.next() < 0.25) event[random.pick(Object.keys(event))] = randomValue(random);
  if (random.next() < 0.1) delete event[random.pick(Object.keys(event))];
  return event;
}

/** The hub's rule for one run attempt: apply `lastSeq + 1` only, never leave a final status. */
class RunModel {
  lastSeq = 0;
  status: RunStatus = 'assigned';
  /** The last gap sent: the same gap sent twice with lastSeq unchanged is accepted, as an agent cannot fill it. */
  private gap: { seq: number; lastSeq: number } | null = null;

  constructor(
    readonly runId: string,
    readonly attempt: number,
  ) {}

  apply(event: RunEvent): void {
    if (event.runId !== this.runId || event.attempt !== this.attempt || isFinal(this.status)) return;
    if (event.seq > this.lastSeq + 1) {
      const repeated = this.gap?.seq === event.seq && this.gap.lastSeq === this.lastSeq;
      this.gap = repeated ? null : { seq: event.seq, lastSeq: this.lastSeq };
      if (!repeated) return;
      this.lastSeq = event.seq - 1;
    }
    if (event.seq !== this.lastSeq + 1) return;
    this.gap = null;
    this.lastSeq = event.seq;
    if (event.type === 'started') this.status = 'running';
    if (event.type === 'finished') this.status = event.status;
  }
}

function finalSnapshot(run: Run | undefined) {
  return run && { status: run.status, finishedAt: run.finishedAt, exitCode: run.exitCode, attempt: run.attempt, agentId: run.agentId };
}

describe('agent gateway fuzzing', () => {
  it('keeps serving and keeps runs consistent', { timeout: 120_000 }, async () => {
    const random = generator(SEED);
    // Long enough that the fuzz run, which may never get a valid `started`, is not queued again mid-test.
    const hub = await startTestHub({ timings: { assignTimeoutMs: 600_000 } });
    await startAgents(hub, [{ name: 'real', tags: ['real'] }]);
    const quick = await createShellTask(hub, 'echo done');
    const [sleepFor] = uniqueDurations(1);
    onCleanup(() => killProcessesWith(`sleep ${sleepFor}`));
    const slow = await createShellTask(hub, `sleep ${sleepFor}`);
    const doneId = (await hub.api<{ id: string }>('POST', `/api/tasks/${quick.id}/runs`, { tags: ['real'] })).body.id;
    const slowId = (await hub.api<{ id: string }>('POST', `/api/tasks/${slow.id}/runs`, { tags: ['real'] })).body.id;
    await waitFor(() => hub.runs.get(doneId)?.status === 'succeeded' && hub.runs.get(slowId)?.status === 'running', 15_000, 'real runs');
    const doneBefore = finalSnapshot(hub.runs.get(doneId));

    let fuzzer = await connectRawAgent(hub, 'fuzz-agent', null, [], ['fuzz']);
    const models: RunModel[] = [];
    const histories = new Map<string, RunStatus[]>();
    hub.runs.on('run', (run) => histories.get(run.id)?.push(run.status));
    // The fuzzer has one run at a time; once the events it sent end that run, it gets the next one.
    const nextRun = async () => {
      const runId = (await hub.api<{ id: string }>('POST', `/api/tasks/${quick.id}/runs`, { tags: ['fuzz'] })).body.id;
      histories.set(runId, []);
      await waitFor(() => hub.runs.get(runId)?.status === 'assigned', 10_000, 'fuzz run assigned');
      models.push(new RunModel(runId, 1));
      return models.at(-1) as RunModel;
    };
    let model = await nextRun();

    let baseline = 0;
    let disconnects = 0;
    for (let iteration = 0; iteration < ITERATIONS; iteration += 1) {
      if (iteration === WARM_UP) {
        collectGarbage();
        baseline = process.memoryUsage().heapUsed;
      }
      if (!fuzzer.socket.connected) {
        disconnects += 1;
        fuzzer.socket.close();
        const held = isFinal(model.status) ? [] : [{ runId: model.runId, attempt: 1 }];
        fuzzer = await connectRawAgent(hub, 'fuzz-agent', fuzzer.credential, held, ['fuzz']);
      }
      if (isFinal(model.status)) model = await nextRun();
      await fuzzOnce(random, fuzzer.socket, model, { doneId, slowId, finishedId: models.at(-2)?.runId ?? doneId });
    }

    const health = await hub.api('GET', '/api/health');
    const afterId = (await hub.api<{ id: string }>('POST', `/api/tasks/${quick.id}/runs`, { tags: ['real'] })).body.id;
    await waitFor(() => hub.runs.get(afterId)?.status === 'succeeded', 15_000, 'run after fuzzing');
    fuzzer.socket.close();
    await new Promise((resolve) => setTimeout(resolve, 500));
    collectGarbage();
    const growth = process.memoryUsage().heapUsed - baseline;

    expect(health.status).toBe(200);
    expect(disconnects).toBeGreaterThan(0);
    expect(finalSnapshot(hub.runs.get(doneId))).toEqual(doneBefore);
    expect(hub.runs.get(slowId)).toMatchObject({ status: 'running', lastSeq: expect.any(Number) });
    expect(models.length).toBeGreaterThan(5);
    for (const expected of models) {
      const run = hub.runs.get(expected.runId);
      expect({ runId: expected.runId, lastSeq: run?.lastSeq, status: run?.status }).toEqual({ runId: expected.runId, lastSeq: expected.lastSeq, status: expected.status });
      const history = histories.get(expected.runId) ?? [];
      const firstFinal = history.findIndex((status) => isFinal(status));
      if (firstFinal >= 0) expect(new Set(history.slice(firstFinal))).toEqual(new Set([history[firstFinal]]));
    }
    expect(growth).toBeLessThan(MAX_HEAP_GROWTH_BYTES);
    await hub.api('POST', `/api/runs/${slowId}/cancel`);
  });
});

/** Sends one fuzzing step: a malformed message, an oversized one, or run events in or out of order. */
async function fuzzOnce(random: Random, socket: Socket, model: RunModel, others: { doneId: string; slowId: string; finishedId: string }): Promise<void> {
  const roll = random.next();
  if (roll < 0.3) {
    socket.emit(random.pick(['hello', 'load', 'events', 'bye', 'assign', 'nonsense']), randomValue(random), () => undefined);
    return;
  }
  if (roll < 0.33) {
    // Over the 1 MB message limit: socket.io closes the connection. Waiting for the close, not a fixed
    // delay, keeps the next step from sending into a socket that is about to drop on a loaded machine.
    const closed = new Promise((resolve) => {
      const onDisconnect = () => {
        clearTimeout(timer);
        resolve(undefined);
      };
      const timer = setTimeout(() => {
        socket.off('disconnect', onDisconnect);
        resolve(undefined);
      }, 5_000);
      socket.once('disconnect', onDisconnect);
    });
    socket.emit('events', { events: [{ type: 'log', lines: [{ m: 'x'.repeat(1_100_000) }] }] });
    await closed;
    return;
  }
  const target = roll < 0.45 ? random.pick([others.doneId, others.slowId, others.finishedId]) : model.runId;
  const seq = random.next() < 0.5 ? model.lastSeq + 1 : random.int(0, model.lastSeq + 5);
  const event = randomEvent(random, target, random.next() < 0.9 ? 1 : random.int(2, 3), seq);
  const valid = runEventSchema.safeParse(event);
  if (!valid.success) {
    // The hub drops an invalid message without an acknowledgement, so there is nothing to wait for.
    socket.emit('events', { events: [event] }, () => undefined);
    return;
  }
  const reply = (await socket.timeout(8_000).emitWithAck('events', { events: [event] })) as { acked: Record<string, number> };
  model.apply(valid.data);
  expect(reply.acked[event.runId as string]).toBeDefined();
}
