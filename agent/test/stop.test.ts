import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Run } from '../src/runner/run.js';
import {
  MemorySink,
  livingGroupMembers,
  makeAssignment,
  makeSettings,
  makeTempDir,
  readFixture,
  removeDir,
  runToEnd,
  startedPid,
} from './helpers.js';

/** Waits until a run's process group has started its background processes. */
async function waitForGroupSize(groupId: number, size: number): Promise<void> {
  for (let tries = 0; tries < 100; tries += 1) {
    if ((await livingGroupMembers(groupId)).length >= size) return;
    await sleep(20);
  }
  throw new Error(`process group ${groupId} never reached ${size} processes`);
}

/**
 * Returns the members of a process group still alive after up to `timeoutMs`. A run ends when its main
 * process has exited, and the other members may still be handling the same signal at that moment.
 */
async function survivors(groupId: number, timeoutMs = 2_000): Promise<number[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const living = await livingGroupMembers(groupId);
    if (living.length === 0 || Date.now() > deadline) return living;
    await sleep(20);
  }
}

describe('stopping runs', () => {
  let dataDir = '';

  beforeEach(async () => {
    dataDir = await makeTempDir();
  });

  afterEach(async () => {
    await removeDir(dataDir);
  });

  it.each([
    { fixture: 'tree.sh', processes: 3, signal: 'SIGTERM' },
    { fixture: 'ignore-term.sh', processes: 2, signal: 'SIGKILL' },
  ])('times out $fixture leaving nothing alive', async ({ fixture, processes, signal }) => {
    const assignment = makeAssignment('shell', await readFixture(fixture), { timeoutSec: 1 });
    const sink = new MemorySink();
    const run = new Run(assignment, sink, makeSettings(dataDir, { killGraceMs: 300 }));

    await run.start();
    const pid = startedPid(sink);
    await waitForGroupSize(pid, processes);
    const outcome = await run.finished;

    expect(outcome.status).toBe('timed_out');
    expect(outcome.error).toBe('timed out after 1 s');
    expect(sink.messages('system')[0]).toBe('timed out after 1 s; sending SIGTERM');
    expect(outcome.signal).toBe(signal);
    expect(await survivors(pid)).toEqual([]);
  });

  it.each([
    { fixture: 'tree.sh', processes: 3 },
    { fixture: 'ignore-term.sh', processes: 2 },
  ])('cancels $fixture leaving nothing alive', async ({ fixture, processes }) => {
    const assignment = makeAssignment('shell', await readFixture(fixture));
    const sink = new MemorySink();
    const run = new Run(assignment, sink, makeSettings(dataDir, { killGraceMs: 300 }));

    await run.start();
    const pid = startedPid(sink);
    await waitForGroupSize(pid, processes);
    run.cancel('user');
    run.cancel('user');
    const outcome = await run.finished;

    expect(outcome.status).toBe('cancelled');
    expect(outcome.error).toBe('cancelled by a user');
    expect(await survivors(pid)).toEqual([]);
  });

  it('logs why the agent stops a run', async () => {
    const assignment = makeAssignment('shell', await readFixture('tree.sh'));
    const sink = new MemorySink();
    const run = new Run(assignment, sink, makeSettings(dataDir, { killGraceMs: 300 }));

    await run.start();
    await waitForGroupSize(startedPid(sink), 3);
    run.cancel('agent_stopping');
    const outcome = await run.finished;

    expect(sink.messages('system')).toEqual(['cancelled because the agent is stopping; sending SIGTERM']);
    expect(outcome.error).toBe('cancelled because the agent is stopping');
  });

  it('reports the hard kill in the log', async () => {
    const assignment = makeAssignment('shell', await readFixture('ignore-term.sh'));
    const sink = new MemorySink();
    const run = new Run(assignment, sink, makeSettings(dataDir, { killGraceMs: 200 }));

    await run.start();
    await waitForGroupSize(startedPid(sink), 2);
    run.cancel('user');
    await run.finished;

    expect(sink.messages('system')).toEqual(['still running 200 ms after SIGTERM; sending SIGKILL']);
  });

  it('cancels before the process starts', async () => {
    const assignment = makeAssignment('shell', 'echo never');
    const sink = new MemorySink();
    const run = new Run(assignment, sink, makeSettings(dataDir));

    const starting = run.start();
    run.cancel('stale');
    await starting;
    const outcome = await run.finished;

    expect(outcome.status).toBe('cancelled');
    expect(sink.events.map((event) => event.type)).toEqual(['finished']);
  });

  it('treats a hub timeout as timed out', async () => {
    const assignment = makeAssignment('shell', 'sleep 600');

    const { outcome } = await runToEnd(assignment, makeSettings(dataDir), (run) => run.cancel('timeout'));

    expect(outcome.status).toBe('timed_out');
    expect(outcome.error).toBe('timed out');
  });
});
