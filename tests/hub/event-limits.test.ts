import { LIMITS, type LogLine, type RunEvent } from 'farmboy-agent/protocol';
import { describe, expect, it } from 'vitest';
import { CappedRuns, limitBatch, type RunTotals } from '../../electron/hub/event-limits.js';
import { serializeOutput } from '../../electron/hub/store/output-events.js';

const RUN_ID = 'run-1';
/** Room the hub allows above the agent's cap, for markers. */
const SLACK_BYTES = 64 * 1024;
/** The hub's own marker line, which it stores past its limit. */
const MARKER_ROOM_BYTES = 1024;

/** Plays the run manager and the store: applies what the limits accept, and counts the bytes a log file would get. */
class FakeRun {
  readonly totals: RunTotals = { logBytes: 0, logLines: 0, recordCount: 0, attempt: 1, lastSeq: 0 };
  readonly stored: LogLine[] = [];
  fileBytes = 0;
  private readonly capped = new CappedRuns();

  send(events: RunEvent[]): RunEvent[] {
    const { accepted } = limitBatch(events, () => ({ ...this.totals }), this.capped);
    for (const event of accepted) {
      if (event.seq !== this.totals.lastSeq + 1) continue;
      this.totals.lastSeq = event.seq;
      if (event.type !== 'log' || event.lines.length === 0) continue;
      this.stored.push(...event.lines);
      this.totals.logLines += event.lines.length;
      this.totals.logBytes += event.lines.reduce((sum, line) => sum + Buffer.byteLength(line.m), 0);
      for (const text of serializeOutput('logs', event.lines, { attempt: event.attempt, seq: event.seq })) this.fileBytes += Buffer.byteLength(text) + 1;
    }
    return accepted;
  }
}

function logEvent(seq: number, message: string, count: number): RunEvent {
  const lines = Array.from({ length: count }, (): LogLine => ({ t: 1_764_000_000_000, s: 'stdout', m: message }));
  return { runId: RUN_ID, attempt: 1, seq, at: 1_764_000_000_000, type: 'log', lines };
}

/** Sends events of `count` lines until the hub drops a whole event. */
function flood(run: FakeRun, message: string, count: number): void {
  for (let seq = 1; seq < 1_000_000; seq += 1) {
    const [accepted] = run.send([logEvent(seq, message, count)]);
    if (accepted?.type === 'log' && accepted.lines.length === 0) return;
  }
}

describe('run output limit', () => {
  it.each([
    { name: '1-byte lines', message: 'y', count: 4_000 },
    { name: 'escaped control characters', message: '\u0001'.repeat(2_000), count: 20 },
    { name: 'one line per event', message: 'y'.repeat(2_000), count: 1 },
  ])('bounds stored bytes: $name', ({ message, count }) => {
    const run = new FakeRun();

    flood(run, message, count);

    const last = run.stored.at(-1);
    expect(run.fileBytes).toBeLessThanOrEqual(LIMITS.maxRunLogBytes + SLACK_BYTES + MARKER_ROOM_BYTES);
    expect(run.fileBytes).toBeGreaterThan(LIMITS.maxRunLogBytes);
    expect(last?.s).toBe('system');
    expect(last?.m).toContain('the hub keeps no more of this run');
    expect(run.stored.filter((line) => line.s === 'system')).toHaveLength(1);
  });

  it('counts no duplicate or gap', () => {
    const run = new FakeRun();
    const message = 'x'.repeat(10_000);
    run.send([logEvent(1, message, 20)]);

    // Counted, these would pass the 100 MiB limit: 300 times 400 KB.
    for (let index = 0; index < 300; index += 1) run.send([logEvent(1, message, 20), logEvent(3, message, 20)]);
    const [next] = run.send([logEvent(2, message, 20)]);

    expect(next?.type === 'log' && next.lines.every((line) => line.s === 'stdout')).toBe(true);
    expect(run.fileBytes).toBeLessThan(1_000_000);
  });
});

describe('batch size limit', () => {
  it.each([
    { name: 'plain lines', message: 'y'.repeat(1_000) },
    { name: 'escaped and multi-byte lines', message: '"\\\u0001é€😀'.repeat(200) },
  ])('defers past the budget: $name', ({ message }) => {
    const events = Array.from({ length: 20 }, (_, index) => logEvent(index + 1, message, 40));
    const budget = 2 * LIMITS.maxBatchBytes;
    let fitting = 0;
    let total = 0;
    for (const event of events) {
      total += Buffer.byteLength(JSON.stringify(event));
      if (total > budget) break;
      fitting += 1;
    }

    const { accepted, deferred } = limitBatch(events, () => undefined, new CappedRuns());

    expect(accepted).toHaveLength(fitting);
    expect(deferred).toHaveLength(events.length - fitting);
  });
});
